/* tlsd_io.h: tern-tlsd's BearSSL engine loop: handshake, then relay plaintext to the application. */
#ifndef TERN_TLSD_IO_H
#define TERN_TLSD_IO_H

#include <bearssl.h>
#include <skalibs/tai.h>

/* The four descriptors around the engine: the network side (ciphertext) and
 * the application side (plaintext). All must be non-blocking. An application
 * fd set to -1 is closed (by the relay, when that side ends). */
typedef struct tlsd_fds_s tlsd_fds;
struct tlsd_fds_s
{
  int netr, netw;   /* socket: read ciphertext, write ciphertext */
  int appr, appw;   /* pipes: read the application's output, write its input */
};

/* Drives the handshake until application data can flow. 0 ok; otherwise a
 * BearSSL error code (> 0), or -1 with errno set (ETIMEDOUT when deadline
 * passed, EPIPE when the client closed the connection). */
extern int tlsd_handshake(br_ssl_engine_context *eng, tlsd_fds *f, tain const *deadline);

/* Relays until one side ends: the application closes its output (we send
 * close_notify), the client closes or the TLS session fails. Closes the
 * application fds it is done with. Returns as tlsd_handshake; 0 for a clean
 * end from either side. closetime bounds the final flush to the client. */
extern int tlsd_relay(br_ssl_engine_context *eng, tlsd_fds *f, tain const *closetime);

#endif
