// SPDX-License-Identifier: MIT
/* General-purpose functions (PKCS#11 v2.40 §5.4): C_GetFunctionList, C_Initialize, C_Finalize,
 * C_GetInfo, the v3.0 C_GetInterfaceList / C_GetInterface, and the rules that hold for every
 * function before C_Initialize and for an unknown session handle. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "all_functions.h"

/* v2.40 §5.4: every function but C_GetFunctionList and C_Initialize answers
 * CKR_CRYPTOKI_NOT_INITIALIZED before C_Initialize. */
static void not_initialized_everywhere(void** state) {
  (void)state;
  int calls = call_session_functions(1, CKR_CRYPTOKI_NOT_INITIALIZED);
  calls += call_global_functions(0, CKR_CRYPTOKI_NOT_INITIALIZED);
  assert_int_equal(calls, 55 + 11); /* + C_GetFunctionList, C_Initialize = 68 */
}

static void get_function_list(void** state) {
  (void)state;
  CK_C_GetFunctionList get_list = (CK_C_GetFunctionList)module_function("C_GetFunctionList");
  assert_non_null(get_list);
  assert_rv(get_list(NULL), CKR_ARGUMENTS_BAD);
  CK_FUNCTION_LIST_PTR list = NULL;
  assert_rv(get_list(&list), CKR_OK);
  assert_ptr_equal(list, p11);
  assert_int_equal(list->version.major, 2);
  assert_int_equal(list->version.minor, 40);
  /* The list is the 2.40 structure: 68 function pointers after the version. */
  const size_t first = offsetof(CK_FUNCTION_LIST, C_Initialize);
  const size_t n = (sizeof(CK_FUNCTION_LIST) - first) / sizeof(void (*)(void));
  assert_int_equal(n, 68);
  for (size_t i = 0; i < n; ++i) {
    void (*fn)(void) = NULL;
    memcpy((void*)&fn, (const char*)list + first + i * sizeof fn, sizeof fn);
    if (fn == NULL) fail_msg("function %zu of the list is NULL", i);
  }
}

static void only_pkcs11_symbols_exported(void** state) {
  (void)state;
  /* The module's internals stay local (version script): the C++ factory and the C entry points
   * other than the list getters. */
  assert_null(module_function("_ZN4jpki6module16makeReaderSystemEv"));
  assert_null(module_function("C_Initialize"));
  assert_null(module_function("C_Sign"));
}

static void initialize_twice(void** state) {
  (void)state;
  assert_rv(p11->C_Initialize(NULL), CKR_OK);
  assert_rv(p11->C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);
  assert_rv(p11->C_Finalize(NULL), CKR_OK);
  assert_rv(p11->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
}

static CK_RV create_mutex(CK_VOID_PTR_PTR out) {
  pthread_mutex_t* m = malloc(sizeof *m);
  if (m == NULL) return CKR_HOST_MEMORY;
  pthread_mutex_init(m, NULL);
  *out = m;
  return CKR_OK;
}
static CK_RV destroy_mutex(CK_VOID_PTR m) {
  pthread_mutex_destroy(m);
  free(m);
  return CKR_OK;
}
static CK_RV lock_mutex(CK_VOID_PTR m) {
  return pthread_mutex_lock(m) == 0 ? CKR_OK : CKR_GENERAL_ERROR;
}
static CK_RV unlock_mutex(CK_VOID_PTR m) {
  return pthread_mutex_unlock(m) == 0 ? CKR_OK : CKR_MUTEX_NOT_LOCKED;
}

static void initialize_args(void** state) {
  (void)state;
  CK_C_INITIALIZE_ARGS args;

  /* pReserved must be NULL (v2.40 §5.4 C_Initialize). */
  memset(&args, 0, sizeof args);
  args.pReserved = &args;
  assert_rv(p11->C_Initialize(&args), CKR_ARGUMENTS_BAD);

  /* The four mutex callbacks are all supplied or none. */
  memset(&args, 0, sizeof args);
  args.CreateMutex = create_mutex;
  assert_rv(p11->C_Initialize(&args), CKR_ARGUMENTS_BAD);
  args.DestroyMutex = destroy_mutex;
  args.LockMutex = lock_mutex;
  args.flags = CKF_OS_LOCKING_OK;
  assert_rv(p11->C_Initialize(&args), CKR_ARGUMENTS_BAD);
  assert_rv(p11->C_GetInfo(&(CK_INFO){0}), CKR_CRYPTOKI_NOT_INITIALIZED);

  /* No callbacks, no flags: single-threaded use. */
  memset(&args, 0, sizeof args);
  assert_rv(p11->C_Initialize(&args), CKR_OK);
  assert_rv(p11->C_Finalize(NULL), CKR_OK);

  /* Application mutexes only. */
  args.CreateMutex = create_mutex;
  args.DestroyMutex = destroy_mutex;
  args.LockMutex = lock_mutex;
  args.UnlockMutex = unlock_mutex;
  assert_rv(p11->C_Initialize(&args), CKR_OK);
  find_token_slots();
  CK_SESSION_HANDLE s = open_session(auth_slot, 0);
  assert_rv(p11->C_CloseSession(s), CKR_OK);
  assert_rv(p11->C_Finalize(NULL), CKR_OK);

  /* Application mutexes or OS locking. */
  args.flags = CKF_OS_LOCKING_OK;
  assert_rv(p11->C_Initialize(&args), CKR_OK);
  assert_rv(p11->C_Finalize(NULL), CKR_OK);

  /* What NSS passes: OS locking, and the library may not create threads. */
  memset(&args, 0, sizeof args);
  args.flags = CKF_OS_LOCKING_OK | CKF_LIBRARY_CANT_CREATE_OS_THREADS;
  assert_rv(p11->C_Initialize(&args), CKR_OK);
  find_token_slots();
  assert_int_not_equal(auth_slot, BOGUS_SLOT);
  assert_rv(p11->C_Finalize(NULL), CKR_OK);
}

static void finalize_reserved(void** state) {
  (void)state;
  assert_rv(p11->C_Initialize(NULL), CKR_OK);
  int dummy = 0;
  assert_rv(p11->C_Finalize(&dummy), CKR_ARGUMENTS_BAD);
  assert_rv(p11->C_Finalize(NULL), CKR_OK);
}

static void initialize_is_cheap(void** state) {
  (void)state;
  card("clear-log");
  for (int i = 0; i < 50; ++i) {
    assert_rv(p11->C_Initialize(NULL), CKR_OK);
    CK_ULONG count = 0;
    assert_rv(p11->C_GetSlotList(CK_FALSE, NULL, &count), CKR_OK);
    assert_rv(p11->C_Finalize(NULL), CKR_OK);
  }
  /* Initialize, slot list and finalize need no card I/O. */
  assert_int_equal(card("apdu-count"), 0);
}

static int padded(const CK_UTF8CHAR* field, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    if (field[i] < 0x20) return 0; /* no NUL terminator, no control bytes */
  }
  return 1;
}

static void get_info(void** state) {
  (void)state;
  assert_rv(p11->C_GetInfo(NULL), CKR_ARGUMENTS_BAD);
  CK_INFO info;
  memset(&info, 0, sizeof info);
  assert_rv(p11->C_GetInfo(&info), CKR_OK);
  assert_int_equal(info.cryptokiVersion.major, 2);
  assert_int_equal(info.cryptokiVersion.minor, 40);
  assert_int_equal(info.flags, 0);
  assert_true(padded(info.manufacturerID, sizeof info.manufacturerID));
  assert_true(padded(info.libraryDescription, sizeof info.libraryDescription));
  assert_false(blank_field(info.manufacturerID, sizeof info.manufacturerID));
  assert_false(blank_field(info.libraryDescription, sizeof info.libraryDescription));
}

static void invalid_session_everywhere(void** state) {
  (void)state;
  assert_int_equal(call_session_functions(BOGUS_HANDLE, CKR_SESSION_HANDLE_INVALID), 55);
  assert_int_equal(call_session_functions(CK_INVALID_HANDLE, CKR_SESSION_HANDLE_INVALID), 55);
}

/* v3.0 §5.2: C_GetInterfaceList and C_GetInterface, when exported. */
static void interfaces(void** state) {
  (void)state;
  CK_C_GetInterfaceList get_list = (CK_C_GetInterfaceList)module_function("C_GetInterfaceList");
  CK_C_GetInterface get_one = (CK_C_GetInterface)module_function("C_GetInterface");
  assert_non_null(get_list);
  assert_non_null(get_one);

  CK_ULONG count = 0;
  assert_rv(get_list(NULL, NULL), CKR_ARGUMENTS_BAD);
  assert_rv(get_list(NULL, &count), CKR_OK);
  assert_true(count >= 1 && count <= 8);
  CK_INTERFACE list[8];
  CK_ULONG small = 0;
  if (count > 0) {
    small = count - 1;
    assert_rv(get_list(list, &small), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(small, count);
  }
  CK_ULONG n = 8;
  assert_rv(get_list(list, &n), CKR_OK);
  assert_int_equal(n, count);
  /* v3.0 §5.2: "PKCS 11" 3.0 (the default, listed first) and "PKCS 11" 2.40 (= C_GetFunctionList).
   */
  assert_int_equal(n, 2);
  const CK_FUNCTION_LIST_3_0* f30 = NULL;
  int has_240 = 0;
  for (CK_ULONG i = 0; i < n; ++i) {
    assert_non_null(list[i].pInterfaceName);
    assert_non_null(list[i].pFunctionList);
    assert_string_equal(list[i].pInterfaceName, "PKCS 11");
    const CK_VERSION* v = list[i].pFunctionList;
    if (v->major == 2 && v->minor == 40) {
      has_240 = 1;
      assert_ptr_equal(list[i].pFunctionList, p11);
    } else if (v->major == 3 && v->minor == 0) {
      assert_int_equal(i, 0);
      f30 = list[i].pFunctionList;
    } else {
      fail_msg("unexpected interface version %d.%d", v->major, v->minor);
    }
  }
  assert_true(has_240);
  assert_non_null(f30);
  /* The 3.0 list's own C_GetInterfaceList / C_GetInterface answer with this module's interfaces
   * (not, say, those of libp11-kit, which exports the same names into the process). */
  CK_INTERFACE again[8];
  CK_ULONG again_n = 8;
  assert_rv(f30->C_GetInterfaceList(again, &again_n), CKR_OK);
  assert_int_equal(again_n, n);
  assert_memory_equal(again, list, n * sizeof *list);
  CK_INTERFACE_PTR via30 = NULL;
  assert_rv(f30->C_GetInterface(NULL, NULL, &via30, 0), CKR_OK);
  assert_ptr_equal(via30->pFunctionList, f30);

  CK_INTERFACE_PTR iface = NULL;
  assert_rv(get_one(NULL, NULL, NULL, 0), CKR_ARGUMENTS_BAD);
  assert_rv(get_one(NULL, NULL, &iface, 0), CKR_OK); /* the default interface: 3.0 */
  assert_non_null(iface);
  assert_ptr_equal(iface->pFunctionList, f30);
  CK_VERSION v240 = {2, 40}, v30 = {3, 0};
  iface = NULL;
  assert_rv(get_one((CK_UTF8CHAR_PTR) "PKCS 11", &v240, &iface, 0), CKR_OK);
  assert_non_null(iface);
  assert_ptr_equal(iface->pFunctionList, p11);
  assert_rv(get_one((CK_UTF8CHAR_PTR) "PKCS 11", &v30, &iface, 0), CKR_OK);
  assert_ptr_equal(iface->pFunctionList, f30);
  CK_VERSION v99 = {9, 9};
  assert_rv(get_one((CK_UTF8CHAR_PTR) "PKCS 11", &v99, &iface, 0), CKR_ARGUMENTS_BAD);
  assert_rv(get_one((CK_UTF8CHAR_PTR) "Vendor NoSuch", NULL, &iface, 0), CKR_ARGUMENTS_BAD);
  /* A flag the module does not offer (there is no such interface) */
  assert_rv(get_one((CK_UTF8CHAR_PTR) "PKCS 11", &v240, &iface, 0x80000000UL), CKR_ARGUMENTS_BAD);

  /* Through the 3.0 list: C_GetInfo reports 3.0; a 3.0 function the module does not offer
   * answers CKR_CRYPTOKI_NOT_INITIALIZED, then CKR_SESSION_HANDLE_INVALID, then
   * CKR_FUNCTION_NOT_SUPPORTED (v3.0 §5.1.6). */
  CK_INFO info;
  CK_UTF8CHAR pin[] = "1234";
  assert_rv(f30->C_LoginUser(1, CKU_USER, pin, 4, NULL, 0), CKR_CRYPTOKI_NOT_INITIALIZED);
  assert_rv(f30->C_Initialize(NULL), CKR_OK);
  assert_rv(f30->C_GetInfo(&info), CKR_OK);
  assert_int_equal(info.cryptokiVersion.major, 3);
  assert_int_equal(info.cryptokiVersion.minor, 0);
  assert_rv(p11->C_GetInfo(&info), CKR_OK);
  assert_int_equal(info.cryptokiVersion.major, 2);
  assert_int_equal(info.cryptokiVersion.minor, 40);
  CK_SLOT_ID slots[4];
  CK_ULONG nslots = 4;
  assert_rv(f30->C_GetSlotList(CK_TRUE, slots, &nslots), CKR_OK);
  assert_true(nslots >= 1);
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  assert_rv(f30->C_OpenSession(slots[0], CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
  assert_rv(f30->C_LoginUser(BOGUS_HANDLE, CKU_USER, pin, 4, NULL, 0), CKR_SESSION_HANDLE_INVALID);
  assert_rv(f30->C_LoginUser(s, CKU_USER, pin, 4, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
  assert_rv(f30->C_SessionCancel(s, CKF_SIGN), CKR_FUNCTION_NOT_SUPPORTED);
  assert_rv(f30->C_MessageSignInit(s, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
  assert_rv(f30->C_MessageVerifyFinal(s), CKR_FUNCTION_NOT_SUPPORTED);
  assert_rv(f30->C_CloseSession(s), CKR_OK);
  assert_rv(f30->C_Finalize(NULL), CKR_OK);
}

/* p11-kit and pkcs11-tool --test-fork call C_Initialize again in a child, without C_Finalize. */
static void fork_child_initializes(void** state) {
  (void)state;
  assert_rv(p11->C_Initialize(NULL), CKR_OK);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    CK_RV rv = p11->C_Initialize(NULL);
    int ok = rv == CKR_OK;
    CK_ULONG count = 0;
    ok = ok && p11->C_GetSlotList(CK_TRUE, NULL, &count) == CKR_OK && count == 2;
    ok = ok && p11->C_Finalize(NULL) == CKR_OK;
    _exit(ok ? 0 : (int)(rv & 0x7f) + 1);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  if (WEXITSTATUS(status) != 0) fail_msg("child failed (status %d)", WEXITSTATUS(status));
  assert_rv(p11->C_Finalize(NULL), CKR_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(not_initialized_everywhere),
      cmocka_unit_test(get_function_list),
      cmocka_unit_test(only_pkcs11_symbols_exported),
      cmocka_unit_test(initialize_twice),
      cmocka_unit_test(initialize_args),
      cmocka_unit_test(finalize_reserved),
      cmocka_unit_test(initialize_is_cheap),
      cmocka_unit_test_setup_teardown(get_info, setup_initialized, teardown_finalize),
      cmocka_unit_test_setup_teardown(invalid_session_everywhere, setup_initialized,
                                      teardown_finalize),
      cmocka_unit_test(interfaces),
      cmocka_unit_test(fork_child_initializes),
  };
  return cmocka_run_group_tests_name("general", tests, setup_loaded, NULL);
}
