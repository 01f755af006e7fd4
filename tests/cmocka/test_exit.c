// SPDX-License-Identifier: MIT
/* Calls at the end of the host's life (STYLE.md practice 14).
 *
 * pdfsig registers atexit(NSS_Shutdown) before NSS dlopen()s the module, so at exit the module's
 * static destructors and OpenSSL's atexit(OPENSSL_cleanup) run first, and then NSS calls
 * C_CloseAllSessions and C_Finalize. Each case runs in a fresh process (this program executed
 * again with a mode argument) so that the exit handler is registered before the module is
 * loaded; the parent process of the suite never loads the module. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define DATA "exit handler"
#define DATA_LEN (sizeof DATA - 1)

/* ---- child: the pdfsig order ---------------------------------------------------------------- */

static int g_report_fd = -1;
/* Sessions left open by main: s_digest with a digest in progress, s_sign with a signature in
 * progress after a login, s_other on the other token with nothing active. */
static CK_SESSION_HANDLE s_digest, s_sign, s_other;

static void record(const char* name, CK_RV rv) {
  char line[96];
  int n = snprintf(line, sizeof line, "%s %lu\n", name, (unsigned long)rv);
  if (n > 0 && write(g_report_fd, line, (size_t)n) != n) _exit(90);
}

/* What a host does from its exit handler, after everything registered later has run. Each call
 * is one that would succeed if the module still did the work, so that CKR_OK and
 * CKR_CRYPTOKI_NOT_INITIALIZED are the only acceptable answers. */
static void late_calls(void) {
  CK_INFO info;
  record("C_GetInfo", p11->C_GetInfo(&info));
  CK_ULONG count = 0;
  record("C_GetSlotList", p11->C_GetSlotList(CK_TRUE, NULL, &count));
  CK_TOKEN_INFO tinfo;
  record("C_GetTokenInfo", p11->C_GetTokenInfo(auth_slot, &tinfo));
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  CK_RV rv = p11->C_OpenSession(auth_slot, CKF_SERIAL_SESSION, NULL, NULL, &s);
  record("C_OpenSession", rv);
  if (rv == CKR_OK) {
    /* A digest started after OpenSSL's own exit handler: OpenSSL 3.0 crashes on that fetch. */
    CK_MECHANISM sha256 = {CKM_SHA256, NULL, 0};
    record("C_DigestInit", p11->C_DigestInit(s, &sha256));
  }
  record("C_SignUpdate", p11->C_SignUpdate(s_sign, (CK_BYTE_PTR)DATA, DATA_LEN));
  record("C_CloseSession", p11->C_CloseSession(s_digest));
  record("C_CloseAllSessions", p11->C_CloseAllSessions(auth_slot));
  record("C_CloseAllSessions", p11->C_CloseAllSessions(sign_slot));
  record("C_Finalize", p11->C_Finalize(NULL));
  /* After C_Finalize only CKR_CRYPTOKI_NOT_INITIALIZED is right (marked for the parent). */
  record("after:C_GetInfo", p11->C_GetInfo(&info));
  record("after:C_CloseSession", p11->C_CloseSession(s_other));
  record("after:C_Finalize", p11->C_Finalize(NULL));
  if (write(g_report_fd, "end\n", 4) != 4) _exit(91);
}

static int exit_child(const char* fd) {
  g_report_fd = atoi(fd);
  if (atexit(late_calls) != 0) return 92; /* first: before the module is loaded */
  harness_load();
  if (p11->C_Initialize(NULL) != CKR_OK) return 93;
  find_token_slots();
  if (auth_slot == BOGUS_SLOT || sign_slot == BOGUS_SLOT) return 94;

  s_digest = open_session(auth_slot, 0);
  CK_MECHANISM sha256 = {CKM_SHA256, NULL, 0};
  if (p11->C_DigestInit(s_digest, &sha256) != CKR_OK) return 95;
  if (p11->C_DigestUpdate(s_digest, (CK_BYTE_PTR)DATA, DATA_LEN) != CKR_OK) return 96;

  s_sign = open_session(auth_slot, 0);
  login(s_sign, CKU_USER, AUTH_PIN);
  CK_OBJECT_HANDLE key = find_one(s_sign, CKO_PRIVATE_KEY);
  CK_MECHANISM sign = {CKM_SHA256_RSA_PKCS, NULL, 0};
  if (p11->C_SignInit(s_sign, &sign, key) != CKR_OK) return 97;
  if (p11->C_SignUpdate(s_sign, (CK_BYTE_PTR)DATA, DATA_LEN) != CKR_OK) return 98;

  s_other = open_session(sign_slot, 0);
  return 0; /* exit handlers: the module's, OpenSSL's, then late_calls */
}

/* ---- child: C_Finalize on another thread ---------------------------------------------------- */

struct finalizer {
  long delay_ns;
  CK_RV rv;
};

static void* finalize_later(void* arg) {
  struct finalizer* f = arg;
  struct timespec delay = {0, f->delay_ns};
  nanosleep(&delay, NULL);
  f->rv = p11->C_Finalize(NULL);
  return NULL;
}

static int g_bad;
/* Returns whether rv is CKR_OK; counts any answer other than CKR_OK or not-initialized. */
static int ok_or_gone(const char* name, CK_RV rv) {
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_NOT_INITIALIZED) {
    fprintf(stderr, "%s returned %s (0x%lx) while C_Finalize ran on another thread\n", name,
            rv_name(rv), (unsigned long)rv);
    ++g_bad;
  }
  return rv == CKR_OK;
}

static int finalize_race_child(void) {
  harness_load();
  for (int round = 0; round < 40; ++round) {
    if (p11->C_Initialize(NULL) != CKR_OK) return 93;
    find_token_slots();
    CK_SESSION_HANDLE s = open_session(auth_slot, 0);
    struct finalizer f = {(round % 8) * 300000L, CKR_GENERAL_ERROR};
    pthread_t thread;
    if (pthread_create(&thread, NULL, finalize_later, &f) != 0) return 94;
    int gone = 0;
    while (gone < 3) {
      CK_INFO info;
      if (!ok_or_gone("C_GetInfo", p11->C_GetInfo(&info))) ++gone;
      CK_ULONG count = 0;
      ok_or_gone("C_GetSlotList", p11->C_GetSlotList(CK_TRUE, NULL, &count));
      CK_TOKEN_INFO tinfo;
      ok_or_gone("C_GetTokenInfo", p11->C_GetTokenInfo(auth_slot, &tinfo));
      CK_SESSION_INFO sinfo;
      ok_or_gone("C_GetSessionInfo", p11->C_GetSessionInfo(s, &sinfo));
      CK_MECHANISM sha256 = {CKM_SHA256, NULL, 0};
      if (ok_or_gone("C_DigestInit", p11->C_DigestInit(s, &sha256))) {
        CK_BYTE out[64];
        CK_ULONG len = sizeof out;
        ok_or_gone("C_Digest", p11->C_Digest(s, (CK_BYTE_PTR)DATA, DATA_LEN, out, &len));
      }
      if (ok_or_gone("C_FindObjectsInit", p11->C_FindObjectsInit(s, NULL, 0))) {
        CK_OBJECT_HANDLE objects[8];
        ok_or_gone("C_FindObjects", p11->C_FindObjects(s, objects, 8, &count));
        ok_or_gone("C_FindObjectsFinal", p11->C_FindObjectsFinal(s));
      }
      CK_SESSION_HANDLE s2 = CK_INVALID_HANDLE;
      if (ok_or_gone("C_OpenSession",
                     p11->C_OpenSession(auth_slot, CKF_SERIAL_SESSION, NULL, NULL, &s2))) {
        ok_or_gone("C_CloseSession", p11->C_CloseSession(s2));
      }
    }
    if (pthread_join(thread, NULL) != 0) return 95;
    if (f.rv != CKR_OK) {
      fprintf(stderr, "C_Finalize on the other thread returned %s\n", rv_name(f.rv));
      return 96;
    }
  }
  return g_bad == 0 ? 0 : 1;
}

/* ---- parent ---------------------------------------------------------------------------------- */

/* Runs this program again with `mode` (and the write end of a pipe when report != NULL, whose
 * text is returned, malloc'd); fails unless the child exits normally with status 0. */
static char* run_child(const char* mode, int with_report) {
  int fds[2] = {-1, -1};
  if (with_report) assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char fd[16];
    snprintf(fd, sizeof fd, "%d", fds[1]);
    if (with_report) close(fds[0]);
    execl("/proc/self/exe", "cmocka_exit", mode, fd, (char*)NULL);
    _exit(127);
  }
  size_t size = 0;
  char* text = calloc(1, 4096);
  assert_non_null(text);
  if (with_report) {
    close(fds[1]);
    for (;;) {
      ssize_t n = read(fds[0], text + size, 4095 - size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      size += (size_t)n;
    }
    close(fds[0]);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  if (WIFSIGNALED(status)) {
    fail_msg("%s: the child was killed by signal %d (%s); its report:\n%s", mode, WTERMSIG(status),
             strsignal(WTERMSIG(status)), text);
  }
  assert_true(WIFEXITED(status));
  if (WEXITSTATUS(status) != 0) {
    fail_msg("%s: the child exited with status %d; its report:\n%s", mode, WEXITSTATUS(status),
             text);
  }
  return text;
}

static void late_calls_from_exit_handler(void** state) {
  (void)state;
  char* text = run_child("exit-child", 1);
  int calls = 0, ended = 0;
  char* save = NULL;
  for (char* line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
    if (strcmp(line, "end") == 0) {
      ended = 1;
      continue;
    }
    char name[64];
    unsigned long rv = 0;
    if (sscanf(line, "%63s %lu", name, &rv) != 2) fail_msg("bad report line: %s", line);
    ++calls;
    const int after = strncmp(name, "after:", 6) == 0;
    if (rv != CKR_CRYPTOKI_NOT_INITIALIZED && (after || rv != CKR_OK)) {
      fail_msg("%s from the exit handler returned %s (0x%lx)", name, rv_name(rv), rv);
    }
  }
  free(text);
  if (!ended) fail_msg("the exit handler did not finish (%d calls reported)", calls);
  assert_true(calls >= 12);
}

static void finalize_on_another_thread(void** state) {
  (void)state;
  free(run_child("finalize-race", 0));
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "exit-child") == 0) return exit_child(argv[2]);
  if (argc >= 2 && strcmp(argv[1], "finalize-race") == 0) return finalize_race_child();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(late_calls_from_exit_handler),
      cmocka_unit_test(finalize_on_another_thread),
  };
  return cmocka_run_group_tests_name("exit", tests, NULL, NULL);
}
