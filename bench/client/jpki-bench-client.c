// SPDX-License-Identifier: MIT
/* jpki-bench-client: one benchmark scenario against one PKCS#11 module.
 *
 *   jpki-bench-client --module PATH --scenario NAME [options]
 *
 * Scenarios (each one a fresh process: dlopen, C_Initialize … C_Finalize, dlclose):
 *   slots       (1) C_GetSlotList + C_GetSlotInfo + C_GetTokenInfo for every slot
 *   objects     (2) every object of every token (no login): CKA_CLASS, CKA_LABEL, CKA_ID, and
 *                   CKA_VALUE of certificates
 *   login-sign  (3) per token: session, C_Login(USER), find the private key, C_SignInit,
 *                   C_Login(CKU_CONTEXT_SPECIFIC) when CKA_ALWAYS_AUTHENTICATE, C_Sign
 *   sign-many   (4) one session on the authentication token, one login, --count signatures
 *   browser     (5) cold start of a browser-like client: C_Initialize(CKF_OS_LOCKING_OK),
 *                   C_GetInfo, slot list, slot + token info of every slot, certificates of the
 *                   authentication token (two-call CKA_VALUE), login, sign once, C_Finalize
 *
 * Every signature (CKM_SHA256_RSA_PKCS) is kept and verified with OpenSSL after the timed part
 * against the certificate given with --auth-cert / --sign-cert (default $JPKI_PKI_DIR/auth.pem and
 * sign.pem). libcrypto is dlopen()ed only then, so that the resident memory measured around
 * dlopen(module) + C_Initialize is the module's own (and the libraries it pulls in).
 *
 * With pcsc_count.so preloaded (run.sh does it, tools/pcsc_count) the JSON also has the process's
 * PC/SC calls that went to pcscd ("pcsc_calls") and its blocking waits ("pcsc_waits"), read after
 * C_Finalize; null without it.
 *
 * The result is one JSON object on stdout; the exit status is 0 only when the scenario ran
 * without error and every signature verified. Under valgrind --tool=callgrind
 * --collect-atstart=no only the signing loop of sign-many (C_SignInit + C_Sign) is counted.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <p11-kit/pkcs11.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_CALLGRIND_H
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_TOGGLE_COLLECT
#endif

#define MAX_SLOTS 16
#define MAX_OBJECTS 64
#define MAX_SIG 512

typedef struct {
  unsigned char data[96];
  size_t data_len;
  unsigned char sig[MAX_SIG];
  CK_ULONG sig_len;
  int key; /* 0 authentication, 1 signature */
} Signature;

static struct {
  const char* module;
  const char* scenario;
  const char *auth_pin, *sign_pin;
  const char *auth_cert, *sign_cert;
  int count;
  int auth_index, sign_index; /* index in C_GetSlotList(TRUE) */
} opt = {NULL, NULL, "1234", "ABC123", NULL, NULL, 50, 0, 1};

static CK_FUNCTION_LIST_PTR p11;
static void* module_handle;
static Signature* sigs;
static int nsigs, sign_errors, relogins;
static CK_RV last_rv;
static int n_slots, n_tokens, n_objects, n_certs;
static unsigned char card_auth_cert[8192];
static CK_ULONG card_auth_cert_len;
static char error_text[512];

/* ---- small helpers ------------------------------------------------------------------------- */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long status_kb(const char* field) {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  size_t n = strlen(field);
  if (!f) return -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, field, n) == 0 && line[n] == ':') {
      kb = strtol(line + n + 1, NULL, 10);
      break;
    }
  }
  fclose(f);
  return kb;
}

static void set_error(const char* fmt, ...) {
  va_list ap;
  if (error_text[0]) return; /* keep the first */
  va_start(ap, fmt);
  vsnprintf(error_text, sizeof error_text, fmt, ap);
  va_end(ap);
}

#define CK(call)                                                 \
  do {                                                           \
    CK_RV rv_ = (call);                                          \
    if (rv_ != CKR_OK) {                                         \
      set_error("%s returned 0x%lx", #call, (unsigned long)rv_); \
      return -1;                                                 \
    }                                                            \
  } while (0)

static Signature* new_signature(int key) {
  static int serial;
  Signature* s;
  if (nsigs >= opt.count + 8) return NULL;
  s = &sigs[nsigs++];
  memset(s, 0, sizeof *s);
  s->key = key;
  s->data_len = (size_t)snprintf((char*)s->data, sizeof s->data, "jpki-bench %s pid %ld #%d",
                                 opt.scenario, (long)getpid(), serial++);
  return s;
}

/* ---- PKCS#11 steps ------------------------------------------------------------------------- */

static CK_SLOT_ID slots[MAX_SLOTS];
static CK_ULONG slot_count;

static int get_slots(CK_BBOOL token_present) {
  slot_count = 0;
  CK(p11->C_GetSlotList(token_present, NULL, &slot_count));
  if (slot_count > MAX_SLOTS) {
    set_error("too many slots (%lu)", (unsigned long)slot_count);
    return -1;
  }
  CK(p11->C_GetSlotList(token_present, slots, &slot_count));
  n_slots = (int)slot_count;
  return 0;
}

static int token_slot(int index, CK_SLOT_ID* slot) {
  if (index < 0 || (CK_ULONG)index >= slot_count) {
    set_error("no token at index %d (%lu slots with a token)", index, (unsigned long)slot_count);
    return -1;
  }
  *slot = slots[index];
  return 0;
}

static int find(CK_SESSION_HANDLE s, CK_ATTRIBUTE* tmpl, CK_ULONG n, CK_OBJECT_HANDLE* out,
                CK_ULONG max, CK_ULONG* found) {
  CK_ULONG got = 0;
  *found = 0;
  CK(p11->C_FindObjectsInit(s, tmpl, n));
  do {
    got = 0;
    if (p11->C_FindObjects(s, out + *found, max - *found, &got) != CKR_OK) {
      p11->C_FindObjectsFinal(s);
      set_error("C_FindObjects failed");
      return -1;
    }
    *found += got;
  } while (got > 0 && *found < max);
  CK(p11->C_FindObjectsFinal(s));
  return 0;
}

static int find_private_key(CK_SESSION_HANDLE s, unsigned char id, CK_OBJECT_HANDLE* key) {
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
  CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_ID, &id, 1}};
  CK_ULONG found;
  if (find(s, t, 2, key, 1, &found)) return -1;
  if (found != 1) {
    set_error("private key with CKA_ID %02x not found", id);
    return -1;
  }
  return 0;
}

/* C_SignInit, context-specific login when the key asks for it, C_Sign into a new Signature. */
static int sign_once(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, int always_auth, const char* pin,
                     int which) {
  CK_MECHANISM mech = {CKM_SHA256_RSA_PKCS, NULL, 0};
  Signature* sig = new_signature(which);
  CK_RV rv;
  if (!sig) {
    set_error("too many signatures");
    return -1;
  }
  sig->sig_len = MAX_SIG;
  rv = p11->C_SignInit(s, &mech, key);
  if (rv == CKR_OK && always_auth) {
    rv = p11->C_Login(s, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)pin, strlen(pin));
  }
  if (rv == CKR_OK) rv = p11->C_Sign(s, sig->data, sig->data_len, sig->sig, &sig->sig_len);
  last_rv = rv;
  if (rv != CKR_OK) {
    nsigs--;
    sign_errors++;
    set_error("signature %d failed: 0x%lx", nsigs, (unsigned long)rv);
    return -1;
  }
  return 0;
}

static int always_authenticate(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key) {
  CK_BBOOL aa = CK_FALSE;
  CK_ATTRIBUTE t = {CKA_ALWAYS_AUTHENTICATE, &aa, sizeof aa};
  if (p11->C_GetAttributeValue(s, key, &t, 1) != CKR_OK) return 0;
  return aa == CK_TRUE;
}

static int login_user(CK_SESSION_HANDLE s, const char* pin) {
  CK_RV rv = p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
    set_error("C_Login(USER) returned 0x%lx", (unsigned long)rv);
    return -1;
  }
  return 0;
}

/* ---- scenarios ----------------------------------------------------------------------------- */

static int scenario_slots(void) {
  CK_SLOT_INFO si;
  CK_TOKEN_INFO ti;
  if (get_slots(CK_FALSE)) return -1;
  for (CK_ULONG i = 0; i < slot_count; i++) {
    CK(p11->C_GetSlotInfo(slots[i], &si));
    if (si.flags & CKF_TOKEN_PRESENT) {
      CK(p11->C_GetTokenInfo(slots[i], &ti));
      n_tokens++;
    }
  }
  if (n_tokens < 2) {
    set_error("expected two tokens, found %d", n_tokens);
    return -1;
  }
  return 0;
}

static int scenario_objects(void) {
  static unsigned char value[8192];
  int auth_cert_seen = 0;
  if (get_slots(CK_TRUE)) return -1;
  n_tokens = (int)slot_count;
  for (CK_ULONG i = 0; i < slot_count; i++) {
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE objs[MAX_OBJECTS];
    CK_ULONG found;
    CK(p11->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &s));
    if (find(s, NULL, 0, objs, MAX_OBJECTS, &found)) return -1;
    n_objects += (int)found;
    for (CK_ULONG k = 0; k < found; k++) {
      CK_OBJECT_CLASS cls = 0;
      char label[256];
      unsigned char id[64];
      CK_ATTRIBUTE t[] = {
          {CKA_CLASS, &cls, sizeof cls}, {CKA_LABEL, label, sizeof label}, {CKA_ID, id, sizeof id}};
      CK_RV rv = p11->C_GetAttributeValue(s, objs[k], t, 3);
      if (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID) {
        set_error("C_GetAttributeValue(class,label,id) returned 0x%lx", (unsigned long)rv);
        return -1;
      }
      if (cls == CKO_CERTIFICATE) {
        CK_ATTRIBUTE v = {CKA_VALUE, value, sizeof value};
        CK(p11->C_GetAttributeValue(s, objs[k], &v, 1));
        n_certs++;
        if (i == (CK_ULONG)opt.auth_index && t[2].ulValueLen == 1 && id[0] == 0x01) {
          memcpy(card_auth_cert, value, v.ulValueLen);
          card_auth_cert_len = v.ulValueLen;
          auth_cert_seen = 1;
        }
      }
    }
    CK(p11->C_CloseSession(s));
  }
  if (!auth_cert_seen) {
    set_error("authentication certificate (CKA_ID 01) not listed");
    return -1;
  }
  return 0;
}

static int login_and_sign(CK_SLOT_ID slot, unsigned char id, const char* pin, int which) {
  CK_SESSION_HANDLE s;
  CK_OBJECT_HANDLE key;
  CK(p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s));
  if (login_user(s, pin)) return -1;
  if (find_private_key(s, id, &key)) return -1;
  if (sign_once(s, key, always_authenticate(s, key), pin, which)) return -1;
  CK(p11->C_Logout(s));
  CK(p11->C_CloseSession(s));
  return 0;
}

static int scenario_login_sign(void) {
  CK_SLOT_ID auth, sign;
  if (get_slots(CK_TRUE)) return -1;
  n_tokens = (int)slot_count;
  if (token_slot(opt.auth_index, &auth) || token_slot(opt.sign_index, &sign)) return -1;
  if (login_and_sign(auth, 0x01, opt.auth_pin, 0)) return -1;
  return login_and_sign(sign, 0x02, opt.sign_pin, 1);
}

static double loop_ms;

static int scenario_sign_many(void) {
  CK_SLOT_ID auth;
  CK_SESSION_HANDLE s;
  CK_OBJECT_HANDLE key;
  int aa, rc = 0;
  double t0;
  if (get_slots(CK_TRUE)) return -1;
  n_tokens = (int)slot_count;
  if (token_slot(opt.auth_index, &auth)) return -1;
  CK(p11->C_OpenSession(auth, CKF_SERIAL_SESSION, NULL, NULL, &s));
  if (login_user(s, opt.auth_pin)) return -1;
  if (find_private_key(s, 0x01, &key)) return -1;
  aa = always_authenticate(s, key);
  t0 = now_ms();
  CALLGRIND_TOGGLE_COLLECT;
  for (int i = 0; i < opt.count; i++) {
    /* When another process selects the JPKI application (its start-up or its C_Logout), the card
     * forgets the verified PIN of everybody: the module answers CKR_USER_NOT_LOGGED_IN. An
     * application would ask for the PIN again; so does the client, and counts it (relogins). */
    int tries = 0;
    while (sign_once(s, key, aa, opt.auth_pin, 0)) {
      if (last_rv != CKR_USER_NOT_LOGGED_IN || ++tries > 5 || login_user(s, opt.auth_pin)) {
        rc = -1; /* keep going: count what is lost */
        break;
      }
      relogins++;
      sign_errors--;
      error_text[0] = 0; /* recovered: not an error */
    }
  }
  CALLGRIND_TOGGLE_COLLECT;
  loop_ms = now_ms() - t0;
  CK(p11->C_Logout(s));
  CK(p11->C_CloseSession(s));
  return rc;
}

static int scenario_browser(void) {
  static unsigned char value[8192];
  CK_INFO info;
  CK_SLOT_INFO si;
  CK_TOKEN_INFO ti;
  CK_SLOT_ID auth;
  CK_SESSION_HANDLE s;
  CK_OBJECT_HANDLE objs[MAX_OBJECTS], key;
  CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
  CK_ATTRIBUTE ct = {CKA_CLASS, &cls, sizeof cls};
  CK_ULONG found;
  unsigned char key_id[64];
  CK_ULONG key_id_len = 0;

  CK(p11->C_GetInfo(&info));
  if (get_slots(CK_TRUE)) return -1;
  n_tokens = (int)slot_count;
  for (CK_ULONG i = 0; i < slot_count; i++) {
    CK(p11->C_GetSlotInfo(slots[i], &si));
    CK(p11->C_GetTokenInfo(slots[i], &ti));
  }
  if (token_slot(opt.auth_index, &auth)) return -1;
  CK(p11->C_OpenSession(auth, CKF_SERIAL_SESSION, NULL, NULL, &s));
  if (find(s, &ct, 1, objs, MAX_OBJECTS, &found)) return -1;
  for (CK_ULONG k = 0; k < found; k++) {
    unsigned char id[64];
    CK_ATTRIBUTE t[] = {{CKA_ID, NULL, 0}, {CKA_VALUE, NULL, 0}};
    CK(p11->C_GetAttributeValue(s, objs[k], t, 2)); /* sizes first, as NSS does */
    if (t[0].ulValueLen > sizeof id || t[1].ulValueLen > sizeof value) continue;
    t[0].pValue = id;
    t[1].pValue = value;
    CK(p11->C_GetAttributeValue(s, objs[k], t, 2));
    n_certs++;
    if (t[0].ulValueLen == 1 && id[0] == 0x01) {
      memcpy(card_auth_cert, value, t[1].ulValueLen);
      card_auth_cert_len = t[1].ulValueLen;
      memcpy(key_id, id, 1);
      key_id_len = 1;
    }
  }
  if (!key_id_len) {
    set_error("authentication certificate (CKA_ID 01) not found");
    return -1;
  }
  if (login_user(s, opt.auth_pin)) return -1;
  if (find_private_key(s, key_id[0], &key)) return -1;
  if (sign_once(s, key, always_authenticate(s, key), opt.auth_pin, 0)) return -1;
  CK(p11->C_Logout(s));
  CK(p11->C_CloseSession(s));
  return 0;
}

/* ---- verification (libcrypto loaded only now) ---------------------------------------------- */

typedef struct x509_st X509;
typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_md_st EVP_MD;
typedef struct evp_md_ctx_st EVP_MD_CTX;

static struct {
  X509* (*PEM_read_X509)(FILE*, X509**, void*, void*);
  int (*i2d_X509)(X509*, unsigned char**);
  EVP_PKEY* (*X509_get0_pubkey)(const X509*);
  void (*X509_free)(X509*);
  EVP_MD_CTX* (*EVP_MD_CTX_new)(void);
  void (*EVP_MD_CTX_free)(EVP_MD_CTX*);
  const EVP_MD* (*EVP_sha256)(void);
  int (*EVP_DigestVerifyInit)(EVP_MD_CTX*, void**, const EVP_MD*, void*, EVP_PKEY*);
  int (*EVP_DigestVerify)(EVP_MD_CTX*, const unsigned char*, size_t, const unsigned char*, size_t);
} ossl;

static int load_crypto(void) {
  void* h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    set_error("cannot load libcrypto.so.3: %s", dlerror());
    return -1;
  }
#define SYM(name)                             \
  do {                                        \
    *(void**)(&ossl.name) = dlsym(h, #name);  \
    if (!ossl.name) {                         \
      set_error("libcrypto lacks %s", #name); \
      return -1;                              \
    }                                         \
  } while (0)
  SYM(PEM_read_X509);
  SYM(i2d_X509);
  SYM(X509_get0_pubkey);
  SYM(X509_free);
  SYM(EVP_MD_CTX_new);
  SYM(EVP_MD_CTX_free);
  SYM(EVP_sha256);
  SYM(EVP_DigestVerifyInit);
  SYM(EVP_DigestVerify);
#undef SYM
  return 0;
}

static X509* read_cert(const char* path) {
  FILE* f = fopen(path, "r");
  X509* x;
  if (!f) {
    set_error("cannot open certificate %s: %s", path, strerror(errno));
    return NULL;
  }
  x = ossl.PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  if (!x) set_error("cannot parse certificate %s", path);
  return x;
}

static int verified;

static int verify_all(void) {
  X509* certs[2] = {NULL, NULL};
  const char* paths[2] = {opt.auth_cert, opt.sign_cert};
  int rc = 0;
  if (nsigs == 0 && card_auth_cert_len == 0) return 0;
  if (load_crypto()) return -1;
  for (int k = 0; k < 2; k++) {
    int needed = (k == 0 && card_auth_cert_len > 0);
    for (int i = 0; i < nsigs; i++) needed |= sigs[i].key == k;
    if (!needed) continue;
    certs[k] = read_cert(paths[k]);
    if (certs[k] == NULL) return -1;
  }
  if (card_auth_cert_len > 0) { /* the certificate the module handed out is the card's */
    unsigned char der[8192], *p = der;
    int n = ossl.i2d_X509(certs[0], NULL);
    if (n <= 0 || n > (int)sizeof der || ossl.i2d_X509(certs[0], &p) != n ||
        (CK_ULONG)n != card_auth_cert_len || memcmp(der, card_auth_cert, (size_t)n) != 0) {
      set_error("CKA_VALUE of the authentication certificate differs from %s", paths[0]);
      rc = -1;
    }
  }
  for (int i = 0; i < nsigs; i++) {
    EVP_MD_CTX* ctx = ossl.EVP_MD_CTX_new();
    int ok = ctx &&
             ossl.EVP_DigestVerifyInit(ctx, NULL, ossl.EVP_sha256(), NULL,
                                       ossl.X509_get0_pubkey(certs[sigs[i].key])) == 1 &&
             ossl.EVP_DigestVerify(ctx, sigs[i].sig, sigs[i].sig_len, sigs[i].data,
                                   sigs[i].data_len) == 1;
    ossl.EVP_MD_CTX_free(ctx);
    if (ok) {
      verified++;
    } else {
      set_error("signature %d (%s key) does not verify", i, sigs[i].key ? "signature" : "auth");
      rc = -1;
    }
  }
  for (int k = 0; k < 2; k++) {
    if (certs[k]) ossl.X509_free(certs[k]);
  }
  return rc;
}

/* ---- main ---------------------------------------------------------------------------------- */

static void usage(FILE* f) {
  fprintf(f,
          "usage: jpki-bench-client --module PATH --scenario "
          "slots|objects|login-sign|sign-many|browser\n"
          "         [--count N] [--auth-pin PIN] [--sign-pin PIN] [--auth-cert PEM]\n"
          "         [--sign-cert PEM] [--auth-index I] [--sign-index I]\n"
          "Prints one JSON object; exit 0 only when the scenario ran and every signature "
          "verified.\n");
}

/* PC/SC calls of this process so far, from pcsc_count.so when run.sh preloaded it (LD_PRELOAD;
 * tools/pcsc_count): NAME is pcsc_count_calls (calls that go to pcscd, blocking waits excluded) or
 * pcsc_count_waits (blocking SCardGetStatusChange). -1 when the counter is not there. */
static long pcsc_counter(const char* name) {
  unsigned long (*fn)(void);
  void* sym = dlsym(RTLD_DEFAULT, name);
  if (!sym) return -1;
  memcpy((void*)&fn, (const void*)&sym, sizeof fn);
  return (long)fn();
}

/* A counter as a JSON value: the number, or null when not counted. */
static void json_counter(long n) {
  if (n < 0) {
    printf("null");
  } else {
    printf("%ld", n);
  }
}

static void json_string(const char* s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') putchar('\\');
    putchar((unsigned char)*s < 0x20 ? ' ' : *s);
  }
  putchar('"');
}

int main(int argc, char** argv) {
  static char default_auth[4096], default_sign[4096];
  const char* pki = getenv("JPKI_PKI_DIR");
  CK_C_INITIALIZE_ARGS init_args;
  CK_C_GetFunctionList get_list;
  struct rusage ru0, ru1;
  long rss_before, rss_init = -1, rss_end = -1, pcsc_calls, pcsc_waits;
  double t0, t_init = 0, t_end;
  int rc = -1, browser;

  static const struct option longopts[] = {{"module", required_argument, NULL, 'm'},
                                           {"scenario", required_argument, NULL, 's'},
                                           {"count", required_argument, NULL, 'n'},
                                           {"auth-pin", required_argument, NULL, 'a'},
                                           {"sign-pin", required_argument, NULL, 'p'},
                                           {"auth-cert", required_argument, NULL, 'A'},
                                           {"sign-cert", required_argument, NULL, 'S'},
                                           {"auth-index", required_argument, NULL, 'i'},
                                           {"sign-index", required_argument, NULL, 'j'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
    switch (c) {
      case 'm':
        opt.module = optarg;
        break;
      case 's':
        opt.scenario = optarg;
        break;
      case 'n':
        opt.count = atoi(optarg);
        break;
      case 'a':
        opt.auth_pin = optarg;
        break;
      case 'p':
        opt.sign_pin = optarg;
        break;
      case 'A':
        opt.auth_cert = optarg;
        break;
      case 'S':
        opt.sign_cert = optarg;
        break;
      case 'i':
        opt.auth_index = atoi(optarg);
        break;
      case 'j':
        opt.sign_index = atoi(optarg);
        break;
      case 'h':
        usage(stdout);
        return 0;
      default:
        usage(stderr);
        return 2;
    }
  }
  if (optind != argc) {
    usage(stderr);
    return 2;
  }
  if (!opt.module || !opt.scenario || opt.count < 1) {
    usage(stderr);
    return 2;
  }
  if (pki) {
    snprintf(default_auth, sizeof default_auth, "%s/auth.pem", pki);
    snprintf(default_sign, sizeof default_sign, "%s/sign.pem", pki);
  }
  if (!opt.auth_cert) opt.auth_cert = default_auth;
  if (!opt.sign_cert) opt.sign_cert = default_sign;
  sigs = calloc((size_t)opt.count + 8, sizeof *sigs);
  if (!sigs) return 2;
  browser = !strcmp(opt.scenario, "browser");

  getrusage(RUSAGE_SELF, &ru0);
  rss_before = status_kb("VmRSS");
  t0 = now_ms();
  module_handle = dlopen(opt.module, RTLD_NOW | RTLD_LOCAL);
  if (!module_handle) {
    set_error("dlopen: %s", dlerror());
    goto out;
  }
  *(void**)(&get_list) = dlsym(module_handle, "C_GetFunctionList");
  if (!get_list || get_list(&p11) != CKR_OK || !p11) {
    set_error("C_GetFunctionList unavailable");
    goto out;
  }
  memset(&init_args, 0, sizeof init_args);
  init_args.flags = CKF_OS_LOCKING_OK;
  {
    CK_RV rv = p11->C_Initialize(browser ? &init_args : NULL);
    if (rv != CKR_OK) {
      set_error("C_Initialize returned 0x%lx", (unsigned long)rv);
      goto out;
    }
  }
  t_init = now_ms() - t0;
  rss_init = status_kb("VmRSS");

  if (!strcmp(opt.scenario, "slots")) {
    rc = scenario_slots();
  } else if (!strcmp(opt.scenario, "objects")) {
    rc = scenario_objects();
  } else if (!strcmp(opt.scenario, "login-sign")) {
    rc = scenario_login_sign();
  } else if (!strcmp(opt.scenario, "sign-many")) {
    rc = scenario_sign_many();
  } else if (browser) {
    rc = scenario_browser();
  } else {
    set_error("unknown scenario %s", opt.scenario);
  }

  {
    CK_RV rv = p11->C_Finalize(NULL);
    if (rv != CKR_OK) {
      set_error("C_Finalize returned 0x%lx", (unsigned long)rv);
      rc = -1;
    }
  }
  rss_end = status_kb("VmHWM");
out:
  t_end = now_ms() - t0;
  /* After C_Finalize: every PC/SC call of the module, its threads included, is done. */
  pcsc_calls = pcsc_counter("pcsc_count_calls");
  pcsc_waits = pcsc_counter("pcsc_count_waits");
  getrusage(RUSAGE_SELF, &ru1);
  /* Not dlclose()d: some modules leave threads or atexit handlers behind. */
  if (verify_all()) rc = -1;
  if (rc == 0 && strcmp(opt.scenario, "slots") != 0 && strcmp(opt.scenario, "objects") != 0) {
    int expected = !strcmp(opt.scenario, "login-sign")  ? 2
                   : !strcmp(opt.scenario, "sign-many") ? opt.count
                                                        : 1;
    if (verified != expected) {
      set_error("%d of %d signatures verified", verified, expected);
      rc = -1;
    }
  }

  printf("{\"scenario\":");
  json_string(opt.scenario);
  printf(",\"ok\":%s,\"error\":", rc == 0 ? "true" : "false");
  json_string(error_text);
  printf(",\"pid\":%ld,\"wall_ms\":%.3f,\"init_ms\":%.3f,\"loop_ms\":%.3f", (long)getpid(), t_end,
         t_init, loop_ms);
  printf(",\"cpu_user_ms\":%.3f,\"cpu_sys_ms\":%.3f",
         (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) * 1e3 +
             (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e3,
         (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1e3 +
             (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e3);
  printf(",\"rss_before_kb\":%ld,\"rss_init_kb\":%ld,\"rss_added_kb\":%ld,\"hwm_end_kb\":%ld",
         rss_before, rss_init, rss_init >= 0 ? rss_init - rss_before : -1, rss_end);
  printf(",\"slots\":%d,\"tokens\":%d,\"objects\":%d,\"certificates\":%d", n_slots, n_tokens,
         n_objects, n_certs);
  printf(",\"signatures\":%d,\"verified\":%d,\"sign_errors\":%d,\"relogins\":%d", nsigs, verified,
         sign_errors, relogins);
  printf(",\"pcsc_calls\":");
  json_counter(pcsc_calls);
  printf(",\"pcsc_waits\":");
  json_counter(pcsc_waits);
  printf("}\n");
  fflush(stdout);
  return rc == 0 ? 0 : 1;
}
