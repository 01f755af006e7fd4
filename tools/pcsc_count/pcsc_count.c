// SPDX-License-Identifier: MIT
/* pcsc_count.so: counts the PC/SC calls of a process that go to pcscd (LD_PRELOAD), for the
 * round-trip test (issue 20: calls that need nothing from the card ask pcscd nothing) and the
 * benchmark's "pcscd calls" column. Each interposed function counts, then calls pcsc-lite's own
 * (dlsym RTLD_NEXT; this library is linked to libpcsclite so that the real functions are found
 * even when the module using them was dlopen()ed with RTLD_LOCAL). SCardIsValidContext is not
 * counted: pcsc-lite answers it from the client's own table. SCardGetStatusChange with a timeout
 * other than 0 is a blocking wait (the module's change watcher or C_WaitForSlotEvent) and is
 * counted apart.
 *
 * A client that links libpcsclite (ours) calls the SCard* functions through the global scope, where
 * LD_PRELOAD puts these first. A client that dlopen()s libpcsclite.so.1 itself and looks the
 * functions up on that handle (OpenSC: reader-pcsc.c, sc_dlsym(gpriv->dlhandle, "SCardTransmit"))
 * would get pcsc-lite's own and bypass the count, so dlsym is interposed too: a lookup on a real
 * handle of one of the names below that finds the public library's function returns the counting
 * one instead (not a lookup inside pcsc-lite 2.x's dispatcher, see dlsym below). Lookups
 * with RTLD_DEFAULT or RTLD_NEXT are passed on unchanged, but are then made from this library (the
 * caller glibc sees), which is right for the programs this is preloaded into (the bench client,
 * p11probe) and not a general-purpose interposer.
 *
 *   pcsc_count_calls()      PC/SC calls so far, any thread, blocking waits excluded
 *   pcsc_count_waits()      blocking SCardGetStatusChange calls so far
 *   pcsc_count_transmits()  SCardTransmit calls so far (APDUs), also counted in calls
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <winscard.h>

static atomic_ulong calls;
static atomic_ulong waits;
static atomic_ulong transmits;

unsigned long pcsc_count_calls(void) { return atomic_load(&calls); }
unsigned long pcsc_count_waits(void) { return atomic_load(&waits); }
unsigned long pcsc_count_transmits(void) { return atomic_load(&transmits); }

/* glibc's dlsym, found by version since the name itself is interposed below (2.34 moved it into
 * libc as dlsym@@GLIBC_2.34; older ones and other architectures have their own base versions). */
typedef void* dlsym_fn(void*, const char*);
static dlsym_fn* real_dlsym(void) {
  static dlsym_fn* fn;
  if (fn == NULL) {
    static const char* const versions[] = {"GLIBC_2.34", "GLIBC_2.2.5", "GLIBC_2.17", "GLIBC_2.0"};
    for (size_t i = 0; fn == NULL && i < sizeof versions / sizeof versions[0]; i++) {
      void* sym = dlvsym(RTLD_NEXT, "dlsym", versions[i]);
      memcpy((void*)&fn, (const void*)&sym, sizeof fn);
    }
    if (fn == NULL) {
      fprintf(stderr, "pcsc_count: no real dlsym\n");
      abort();
    }
  }
  return fn;
}

/* The next definition of NAME (pcsc-lite's), typed like the function being defined. */
#define REAL(name)                                                  \
  static __typeof__(name)* real;                                    \
  if (real == NULL) {                                               \
    void* sym = real_dlsym()(RTLD_NEXT, #name);                     \
    if (sym == NULL) {                                              \
      fprintf(stderr, "pcsc_count: no real %s\n", #name);           \
      abort();                                                      \
    }                                                               \
    __builtin_memcpy((void*)&real, (const void*)&sym, sizeof real); \
  }

LONG SCardEstablishContext(DWORD scope, LPCVOID r1, LPCVOID r2, LPSCARDCONTEXT ctx) {
  REAL(SCardEstablishContext);
  atomic_fetch_add(&calls, 1);
  return real(scope, r1, r2, ctx);
}

LONG SCardReleaseContext(SCARDCONTEXT ctx) {
  REAL(SCardReleaseContext);
  atomic_fetch_add(&calls, 1);
  return real(ctx);
}

LONG SCardConnect(SCARDCONTEXT ctx, LPCSTR reader, DWORD share, DWORD protocols, LPSCARDHANDLE card,
                  LPDWORD active) {
  REAL(SCardConnect);
  atomic_fetch_add(&calls, 1);
  return real(ctx, reader, share, protocols, card, active);
}

LONG SCardReconnect(SCARDHANDLE card, DWORD share, DWORD protocols, DWORD init, LPDWORD active) {
  REAL(SCardReconnect);
  atomic_fetch_add(&calls, 1);
  return real(card, share, protocols, init, active);
}

LONG SCardDisconnect(SCARDHANDLE card, DWORD disposition) {
  REAL(SCardDisconnect);
  atomic_fetch_add(&calls, 1);
  return real(card, disposition);
}

LONG SCardBeginTransaction(SCARDHANDLE card) {
  REAL(SCardBeginTransaction);
  atomic_fetch_add(&calls, 1);
  return real(card);
}

LONG SCardEndTransaction(SCARDHANDLE card, DWORD disposition) {
  REAL(SCardEndTransaction);
  atomic_fetch_add(&calls, 1);
  return real(card, disposition);
}

LONG SCardStatus(SCARDHANDLE card, LPSTR names, LPDWORD namesLen, LPDWORD state, LPDWORD protocol,
                 LPBYTE atr, LPDWORD atrLen) {
  REAL(SCardStatus);
  atomic_fetch_add(&calls, 1);
  return real(card, names, namesLen, state, protocol, atr, atrLen);
}

LONG SCardGetStatusChange(SCARDCONTEXT ctx, DWORD timeout, SCARD_READERSTATE* states, DWORD n) {
  REAL(SCardGetStatusChange);
  atomic_fetch_add(timeout == 0 ? &calls : &waits, 1);
  return real(ctx, timeout, states, n);
}

LONG SCardControl(SCARDHANDLE card, DWORD code, LPCVOID send, DWORD sendLen, LPVOID recv,
                  DWORD recvLen, LPDWORD returned) {
  REAL(SCardControl);
  atomic_fetch_add(&calls, 1);
  return real(card, code, send, sendLen, recv, recvLen, returned);
}

LONG SCardTransmit(SCARDHANDLE card, const SCARD_IO_REQUEST* sendPci, LPCBYTE send, DWORD sendLen,
                   SCARD_IO_REQUEST* recvPci, LPBYTE recv, LPDWORD recvLen) {
  REAL(SCardTransmit);
  atomic_fetch_add(&calls, 1);
  atomic_fetch_add(&transmits, 1);
  return real(card, sendPci, send, sendLen, recvPci, recv, recvLen);
}

LONG SCardListReaders(SCARDCONTEXT ctx, LPCSTR groups, LPSTR readers, LPDWORD len) {
  REAL(SCardListReaders);
  atomic_fetch_add(&calls, 1);
  return real(ctx, groups, readers, len);
}

LONG SCardCancel(SCARDCONTEXT ctx) {
  REAL(SCardCancel);
  atomic_fetch_add(&calls, 1);
  return real(ctx);
}

LONG SCardGetAttrib(SCARDHANDLE card, DWORD id, LPBYTE attr, LPDWORD len) {
  REAL(SCardGetAttrib);
  atomic_fetch_add(&calls, 1);
  return real(card, id, attr, len);
}

/* Versions 14 and 19 of clang-format disagree on a macro that expands to a brace list. */
/* clang-format off */
#define COUNTED(fn) {#fn, (void (*)(void))(fn)}
/* clang-format on */

/* The counting function of NAME, or NULL when NAME is not one of those above. */
static void* counting(const char* name) {
  static const struct {
    const char* name;
    void (*fn)(void);
  } table[] = {
      COUNTED(SCardEstablishContext), COUNTED(SCardReleaseContext), COUNTED(SCardConnect),
      COUNTED(SCardReconnect),        COUNTED(SCardDisconnect),     COUNTED(SCardBeginTransaction),
      COUNTED(SCardEndTransaction),   COUNTED(SCardStatus),         COUNTED(SCardGetStatusChange),
      COUNTED(SCardControl),          COUNTED(SCardTransmit),       COUNTED(SCardListReaders),
      COUNTED(SCardCancel),           COUNTED(SCardGetAttrib),
  };
#undef COUNTED
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    if (strcmp(name, table[i].name) == 0) {
      void* p;
      memcpy((void*)&p, (const void*)&table[i].fn, sizeof p);
      return p;
    }
  }
  return NULL;
}

/* Only a lookup that finds the public libpcsclite's own function (the one this library forwards
 * to) is answered with the counting one. pcsc-lite 2.x's libpcsclite.so.1 is itself a dispatcher
 * that dlopen()s libpcsclite_real.so.1 and looks the functions up there: those lookups must get
 * the real functions, or every call would come back here forever (Debian 13). */
void* dlsym(void* handle, const char* name) {
  void* sym = real_dlsym()(handle, name);
  if (sym != NULL && handle != RTLD_DEFAULT && handle != RTLD_NEXT && name != NULL) {
    void* own = counting(name);
    if (own != NULL && sym == real_dlsym()(RTLD_NEXT, name)) return own;
  }
  return sym;
}
