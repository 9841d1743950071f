/* remote_batch.h: tern-remote -b, the long-lived run tern-send hands
 * message after message for one destination (lib/jobmsg.h for the
 * records, docs/INTERNALS.md "Batched remote runs"). */
#ifndef TERN_REMOTE_BATCH_H
#define TERN_REMOTE_BATCH_H

/* Serves the jobs that come on sock (fd 0) until end of file: for each,
 * the records on fd 1 (the job file), then "D ID" on sock. Returns when
 * tern-send closes the socket (0) or on an error that ends the run (dies
 * with a message: a malformed record, a write that failed). */
extern int rbatch_run(int sock);

#endif
