// SPDX-License-Identifier: MIT
/* p11probe: drives a PKCS#11 module step by step and prints the CK_RV of each step, so the
 * reliability scripts can inject a fault between (or during) calls of ONE process and check the
 * exact return codes. Also the worker of the concurrency test.
 *
 *   p11probe MODULE STEP...
 *
 * Steps (run in order; each prints "STEP RV" on stdout, flushed):
 *   init | fini            C_Initialize / C_Finalize (init is implicit before the first step)
 *   info SLOT              C_GetTokenInfo; also prints "serial XXXXXXXXXXXXXXXX" and
 *                          "pin-flags" with COUNT_LOW / FINAL_TRY / LOCKED when set
 *   open SLOT              C_OpenSession (replaces the current session)
 *   login PIN | ctx PIN    C_Login CKU_USER / CKU_CONTEXT_SPECIFIC on the current session
 *   logout | close         C_Logout / C_CloseSession
 *   read FILE              CKA_VALUE of the session token's end-entity certificate → FILE
 *   sign FILE              CKM_SHA256_RSA_PKCS over "p11probe data" with the token's private key
 *                          (the handle found right after the last successful login, else found now)
 *                          (C_Login(CKU_CONTEXT_SPECIFIC) with the last PIN when the key has
 *                          CKA_ALWAYS_AUTHENTICATE) → FILE
 *   wipe-login PIN         C_Login CKU_USER, then wipes every copy the probe holds (argv too), so a
 *                          core dump taken afterwards shows what the MODULE kept
 *   pause                  prints "pause" and waits for a line on stdin
 *   quiet SLOT N           N rounds of calls that need nothing new from the card (C_GetSlotInfo,
 *                          C_GetSessionInfo, C_FindObjectsInit/C_FindObjects/C_FindObjectsFinal,
 *                          C_GetAttributeValue CKA_LABEL) on the current session; prints
 *                          "quiet RV" (the first failure, else CKR_OK) and, when the pcsc_count.so
 *                          interposer is loaded (LD_PRELOAD), "quiet-pcsc calls C waits W
 *                          transmits T": the PC/SC calls made meanwhile by any thread (blocking
 *                          status waits W apart; T of the C are APDUs)
 *   tinfo SLOT N           N C_GetTokenInfo calls, printed like quiet ("tinfo RV", "tinfo-pcsc
 * ...") Exit status: 0 (the scripts judge the printed codes), 2 on usage errors.
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static CK_FUNCTION_LIST_PTR p11;
static CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
static char last_pin[64];
/* The private key found right after a successful C_Login, as clients do (find, then sign later). */
static CK_OBJECT_HANDLE login_key = CK_INVALID_HANDLE;

static const char* rv_name(CK_RV rv) {
  static char other[32];
  switch (rv) {
#define N(x) \
  case x:    \
    return #x;
    // clang-format off (one name a line; clang-format 14 and 19 would pack them differently)
    N(CKR_OK)
    N(CKR_HOST_MEMORY)
    N(CKR_GENERAL_ERROR)
    N(CKR_FUNCTION_FAILED)
    N(CKR_ARGUMENTS_BAD)
    N(CKR_DEVICE_ERROR)
    N(CKR_DEVICE_MEMORY)
    N(CKR_DEVICE_REMOVED)
    N(CKR_FUNCTION_CANCELED)
    N(CKR_KEY_HANDLE_INVALID)
    N(CKR_OBJECT_HANDLE_INVALID)
    N(CKR_OPERATION_ACTIVE)
    N(CKR_OPERATION_NOT_INITIALIZED)
    N(CKR_PIN_INCORRECT)
    N(CKR_PIN_LOCKED)
    N(CKR_SESSION_CLOSED)
    N(CKR_SESSION_HANDLE_INVALID)
    N(CKR_SIGNATURE_INVALID)
    N(CKR_SLOT_ID_INVALID)
    N(CKR_TOKEN_NOT_PRESENT)
    N(CKR_TOKEN_NOT_RECOGNIZED)
    N(CKR_USER_ALREADY_LOGGED_IN)
    N(CKR_USER_NOT_LOGGED_IN)
    N(CKR_CRYPTOKI_NOT_INITIALIZED)
    N(CKR_CRYPTOKI_ALREADY_INITIALIZED)
    N(CKR_BUFFER_TOO_SMALL)
    N(CKR_DATA_LEN_RANGE)
    N(CKR_USER_TYPE_INVALID)
    // clang-format on
#undef N
    default:
      snprintf(other, sizeof other, "0x%lx", (unsigned long)rv);
      return other;
  }
}

static void report(const char* step, CK_RV rv) {
  printf("%s %s\n", step, rv_name(rv));
  fflush(stdout);
}

static CK_OBJECT_HANDLE find_one(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, CK_RV* rv) {
  CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof cls};
  CK_OBJECT_HANDLE found[8];
  CK_ULONG n = 0;
  *rv = p11->C_FindObjectsInit(s, &t, 1);
  if (*rv != CKR_OK) return CK_INVALID_HANDLE;
  *rv = p11->C_FindObjects(s, found, 8, &n);
  CK_RV fin = p11->C_FindObjectsFinal(s);
  if (*rv == CKR_OK) *rv = fin;
  /* The end-entity object: CKA_ID 01 or 02 (CA certificates have 03/04). */
  for (CK_ULONG i = 0; *rv == CKR_OK && i < n; ++i) {
    CK_BYTE id[8];
    CK_ATTRIBUTE a = {CKA_ID, id, sizeof id};
    *rv = p11->C_GetAttributeValue(s, found[i], &a, 1);
    if (*rv == CKR_OK && a.ulValueLen == 1 && (id[0] == 1 || id[0] == 2)) return found[i];
  }
  if (*rv == CKR_OK) *rv = CKR_OBJECT_HANDLE_INVALID; /* "not found" */
  return CK_INVALID_HANDLE;
}

/* The counters of tests/integration/reliability/pcsc_count.c, when it is preloaded. */
typedef unsigned long (*counter_fn)(void);

static CK_RV quiet_round(CK_SLOT_ID slot) {
  CK_SLOT_INFO si;
  CK_SESSION_INFO ss;
  CK_RV rv = p11->C_GetSlotInfo(slot, &si);
  if (rv == CKR_OK) rv = p11->C_GetSessionInfo(session, &ss);
  CK_OBJECT_HANDLE cert = CK_INVALID_HANDLE;
  if (rv == CKR_OK) cert = find_one(session, CKO_CERTIFICATE, &rv);
  if (rv == CKR_OK) {
    char label[128];
    CK_ATTRIBUTE a = {CKA_LABEL, label, sizeof label};
    rv = p11->C_GetAttributeValue(session, cert, &a, 1);
  }
  return rv;
}

static CK_RV tinfo_round(CK_SLOT_ID slot) {
  CK_TOKEN_INFO ti;
  return p11->C_GetTokenInfo(slot, &ti);
}

/* Runs `round` N times; prints "STEP RV" and, with pcsc_count.so preloaded, what PC/SC saw. */
static void counted(const char* step, CK_RV (*round)(CK_SLOT_ID), CK_SLOT_ID slot, long rounds) {
  void* self = dlopen(NULL, RTLD_NOW); /* the program and what LD_PRELOAD brought */
  counter_fn fn[3] = {NULL, NULL, NULL};
  const char* names[3] = {"pcsc_count_calls", "pcsc_count_waits", "pcsc_count_transmits"};
  unsigned long before[3] = {0, 0, 0};
  /* The module ends a card transaction without waiting for pcscd's answer (its I/O thread sends
   * SCardEndTransaction afterwards): let such trailing calls of the steps before, and of this
   * step, land on their own side of the count. */
  const struct timespec settle = {0, 100000000L}; /* 100 ms */
  nanosleep(&settle, NULL);
  for (int k = 0; k < 3 && self != NULL; ++k) {
    void* sym = dlsym(self, names[k]);
    memcpy((void*)&fn[k], (const void*)&sym, sizeof fn[k]);
    if (fn[k] != NULL) before[k] = fn[k]();
  }
  CK_RV rv = CKR_OK;
  for (long r = 0; r < rounds && rv == CKR_OK; ++r) rv = round(slot);
  report(step, rv);
  nanosleep(&settle, NULL);
  if (fn[0] != NULL && fn[1] != NULL && fn[2] != NULL) {
    printf("%s-pcsc calls %lu waits %lu transmits %lu\n", step, fn[0]() - before[0],
           fn[1]() - before[1], fn[2]() - before[2]);
    fflush(stdout);
  }
}

static int write_file(const char* path, const CK_BYTE* data, CK_ULONG len) {
  FILE* f = fopen(path, "wb");
  if (f == NULL) return -1;
  fwrite(data, 1, len, f);
  return fclose(f);
}

static CK_RV do_read(CK_SESSION_HANDLE s, const char* path) {
  CK_RV rv;
  CK_OBJECT_HANDLE cert = find_one(s, CKO_CERTIFICATE, &rv);
  if (rv != CKR_OK) return rv;
  CK_BYTE value[8192];
  CK_ATTRIBUTE a = {CKA_VALUE, value, sizeof value};
  rv = p11->C_GetAttributeValue(s, cert, &a, 1);
  if (rv == CKR_OK && path != NULL) write_file(path, value, a.ulValueLen);
  return rv;
}

/* Signs; with check set, also verifies with the token's public key (C_Verify). */
static CK_RV do_sign(CK_SESSION_HANDLE s, const char* pin, const char* path, int check,
                     CK_OBJECT_HANDLE key) {
  static const CK_BYTE data[] = "p11probe data";
  CK_RV rv = CKR_OK;
  if (key == CK_INVALID_HANDLE) key = find_one(s, CKO_PRIVATE_KEY, &rv);
  if (rv != CKR_OK) return rv;
  CK_BBOOL always = CK_FALSE;
  CK_ATTRIBUTE a = {CKA_ALWAYS_AUTHENTICATE, &always, sizeof always};
  rv = p11->C_GetAttributeValue(s, key, &a, 1);
  if (rv != CKR_OK) return rv;
  CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
  rv = p11->C_SignInit(s, &m, key);
  if (rv != CKR_OK) return rv;
  if (always == CK_TRUE) {
    rv = p11->C_Login(s, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)pin, strlen(pin));
    if (rv != CKR_OK) {
      CK_ULONG l = 0;
      p11->C_Sign(s, (CK_BYTE_PTR)data, sizeof data - 1, NULL, &l);
      CK_BYTE sig[512];
      l = sizeof sig;
      p11->C_Sign(s, (CK_BYTE_PTR)data, sizeof data - 1, sig, &l); /* ends the operation */
      return rv;
    }
  }
  CK_BYTE sig[512];
  CK_ULONG len = sizeof sig;
  rv = p11->C_Sign(s, (CK_BYTE_PTR)data, sizeof data - 1, sig, &len);
  if (rv != CKR_OK) return rv;
  if (path != NULL) write_file(path, sig, len);
  if (!check) return CKR_OK;
  CK_OBJECT_HANDLE pub = find_one(s, CKO_PUBLIC_KEY, &rv);
  if (rv != CKR_OK) return rv;
  rv = p11->C_VerifyInit(s, &m, pub);
  if (rv != CKR_OK) return rv;
  return p11->C_Verify(s, (CK_BYTE_PTR)data, sizeof data - 1, sig, len);
}

/* ---- concurrency workers ---- */
struct loop_args {
  CK_SLOT_ID slot;
  const char* pin;
  double seconds;
  int id;
  unsigned long attempts, signatures, relogins, errors;
};

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Documented outcomes of a race between workers sharing one token's login:
 * CKR_USER_ALREADY_LOGGED_IN (another session of this token logged in first) and
 * CKR_USER_NOT_LOGGED_IN (another worker's C_Logout / last C_CloseSession in between). */
static int documented(CK_RV rv) {
  return rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN || rv == CKR_USER_NOT_LOGGED_IN;
}

enum { MAX_RELOGINS = 3 };

/* The session's token is no longer logged in (C_GetSessionInfo shows a public session). */
static int login_lost(CK_SESSION_HANDLE s) {
  CK_SESSION_INFO info;
  return p11->C_GetSessionInfo(s, &info) == CKR_OK &&
         (info.state == CKS_RO_PUBLIC_SESSION || info.state == CKS_RW_PUBLIC_SESSION);
}

static void* loop(void* p) {
  struct loop_args* a = p;
  const double end = now() + a->seconds;
  while (now() < end) {
    CK_SESSION_HANDLE s;
    CK_RV rv = p11->C_OpenSession(a->slot, CKF_SERIAL_SESSION, NULL, NULL, &s);
    if (rv != CKR_OK) {
      printf("worker %d open %s\n", a->id, rv_name(rv));
      ++a->errors;
      continue;
    }
    rv = p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)a->pin, strlen(a->pin));
    if (!documented(rv)) {
      printf("worker %d login %s\n", a->id, rv_name(rv));
      ++a->errors;
    }
    /* Every attempt must end in a verified signature. The only way to fail is to have lost the
     * login (another process's C_Logout or last C_CloseSession clears the card's PIN state, and
     * may do so again between a re-login and the signature): the session then shows a public
     * state, and the worker logs in again, at most MAX_RELOGINS times per attempt. */
    for (int i = 0; i < 3; ++i) {
      ++a->attempts;
      rv = do_sign(s, a->pin, NULL, 1, CK_INVALID_HANDLE);
      int r = 0;
      for (; rv != CKR_OK && r < MAX_RELOGINS && login_lost(s); ++r) {
        ++a->relogins;
        CK_RV lrv = p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)a->pin, strlen(a->pin));
        if (lrv != CKR_OK && lrv != CKR_USER_ALREADY_LOGGED_IN) {
          printf("worker %d re-login %s\n", a->id, rv_name(lrv));
          break;
        }
        rv = do_sign(s, a->pin, NULL, 1, CK_INVALID_HANDLE);
      }
      if (rv == CKR_OK) {
        ++a->signatures;
      } else {
        printf("worker %d sign %s (after %d re-logins; login %s)\n", a->id, rv_name(rv), r,
               login_lost(s) ? "lost" : "held");
        ++a->errors;
      }
    }
    rv = p11->C_CloseSession(s);
    if (rv != CKR_OK) {
      printf("worker %d close %s\n", a->id, rv_name(rv));
      ++a->errors;
    }
  }
  return NULL;
}

static void run_loops(int n, CK_SLOT_ID slot, const char* pin, double seconds) {
  pthread_t th[64];
  struct loop_args args[64];
  if (n > 64) n = 64;
  for (int i = 0; i < n; ++i) {
    args[i] = (struct loop_args){slot, pin, seconds, i, 0, 0, 0, 0};
    pthread_create(&th[i], NULL, loop, &args[i]);
  }
  unsigned long attempts = 0, sigs = 0, relogins = 0, errs = 0;
  for (int i = 0; i < n; ++i) {
    pthread_join(th[i], NULL);
    attempts += args[i].attempts;
    sigs += args[i].signatures;
    relogins += args[i].relogins;
    errs += args[i].errors;
  }
  printf("loop signatures %lu errors %lu attempts %lu relogins %lu\n", sigs, errs, attempts,
         relogins);
  fflush(stdout);
}

static int need(int i, int argc, int k) {
  if (i + k >= argc) {
    fprintf(stderr, "p11probe: missing argument\n");
    exit(2);
  }
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: p11probe MODULE STEP...\n");
    return 2;
  }
  void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    fprintf(stderr, "p11probe: %s\n", dlerror());
    return 2;
  }
  void* symbol = dlsym(lib, "C_GetFunctionList");
  CK_C_GetFunctionList get = NULL;
  memcpy((void*)&get, (const void*)&symbol,
         sizeof get); /* ISO C: no cast between object and function pointers */
  if (get == NULL || get(&p11) != CKR_OK) return 2;
  CK_C_INITIALIZE_ARGS init = {NULL, NULL, NULL, NULL, CKF_OS_LOCKING_OK, NULL};
  int initialized = 0;
  for (int i = 2; i < argc; ++i) {
    const char* step = argv[i];
    if (!initialized && strcmp(step, "init") != 0) {
      report("init", p11->C_Initialize(&init));
      initialized = 1;
    }
    if (strcmp(step, "init") == 0) {
      report(step, p11->C_Initialize(&init));
      initialized = 1;
    } else if (strcmp(step, "fini") == 0) {
      report(step, p11->C_Finalize(NULL));
      initialized = 0;
    } else if (strcmp(step, "info") == 0 && need(i, argc, 1)) {
      CK_TOKEN_INFO info;
      CK_RV rv = p11->C_GetTokenInfo(strtoul(argv[++i], NULL, 10), &info);
      report(step, rv);
      if (rv == CKR_OK) {
        printf("serial %.16s\n", (const char*)info.serialNumber);
        printf("pin-flags%s%s%s\n", (info.flags & CKF_USER_PIN_COUNT_LOW) ? " COUNT_LOW" : "",
               (info.flags & CKF_USER_PIN_FINAL_TRY) ? " FINAL_TRY" : "",
               (info.flags & CKF_USER_PIN_LOCKED) ? " LOCKED" : "");
      }
    } else if ((strcmp(step, "quiet") == 0 || strcmp(step, "tinfo") == 0) && need(i, argc, 2)) {
      CK_SLOT_ID slot = strtoul(argv[i + 1], NULL, 10);
      counted(step, strcmp(step, "quiet") == 0 ? quiet_round : tinfo_round, slot,
              strtol(argv[i + 2], NULL, 10));
      i += 2;
    } else if (strcmp(step, "open") == 0 && need(i, argc, 1)) {
      login_key = CK_INVALID_HANDLE;
      report(step, p11->C_OpenSession(strtoul(argv[++i], NULL, 10), CKF_SERIAL_SESSION, NULL, NULL,
                                      &session));
    } else if ((strcmp(step, "login") == 0 || strcmp(step, "ctx") == 0) && need(i, argc, 1)) {
      snprintf(last_pin, sizeof last_pin, "%s", argv[++i]);
      CK_RV rv = p11->C_Login(session, step[0] == 'l' ? CKU_USER : CKU_CONTEXT_SPECIFIC,
                              (CK_UTF8CHAR_PTR)last_pin, strlen(last_pin));
      report(step, rv);
      if (rv == CKR_OK && step[0] == 'l') {
        CK_RV frv;
        login_key = find_one(session, CKO_PRIVATE_KEY, &frv);
      }
    } else if (strcmp(step, "wipe-login") == 0 && need(i, argc, 1)) {
      char* arg = argv[++i];
      volatile char pin[64];
      size_t n = strlen(arg);
      if (n >= sizeof pin) n = sizeof pin - 1;
      for (size_t k = 0; k < n; ++k) pin[k] = arg[k];
      for (size_t k = 0; k < strlen(arg); ++k) ((volatile char*)arg)[k] = 'x';
      CK_RV rv = p11->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, n);
      for (size_t k = 0; k < sizeof pin; ++k) pin[k] = 0;
      memset(last_pin, 0, sizeof last_pin);
      report(step, rv);
    } else if (strcmp(step, "logout") == 0) {
      report(step, p11->C_Logout(session));
    } else if (strcmp(step, "close") == 0) {
      report(step, p11->C_CloseSession(session));
    } else if (strcmp(step, "read") == 0 && need(i, argc, 1)) {
      report(step, do_read(session, argv[++i]));
    } else if (strcmp(step, "sign") == 0 && need(i, argc, 1)) {
      report(step, do_sign(session, last_pin, argv[++i], 0, login_key));
    } else if (strcmp(step, "pause") == 0) {
      printf("pause\n");
      fflush(stdout);
      char line[64];
      if (fgets(line, sizeof line, stdin) == NULL) return 0;
    } else if (strcmp(step, "loop") == 0 && need(i, argc, 3)) {
      run_loops(1, strtoul(argv[i + 1], NULL, 10), argv[i + 2], atof(argv[i + 3]));
      i += 3;
    } else if (strcmp(step, "threads") == 0 && need(i, argc, 4)) {
      run_loops(atoi(argv[i + 1]), strtoul(argv[i + 2], NULL, 10), argv[i + 3], atof(argv[i + 4]));
      i += 4;
    } else {
      fprintf(stderr, "p11probe: unknown step '%s'\n", step);
      return 2;
    }
  }
  return 0;
}
