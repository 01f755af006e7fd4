// SPDX-License-Identifier: MIT
/* Calls every function of the v2.40 function list with well-formed arguments, for the checks
 * that must hold for all of them (not initialized, invalid session handle). */
#pragma once

#include "harness.h"

/* Every function that takes a session handle, called with `session`; each must return
 * `expected`. Returns the number of functions called. */
int call_session_functions(CK_SESSION_HANDLE session, CK_RV expected);
/* Every function that takes no session (except C_GetFunctionList and C_Initialize), with `slot`
 * where one is needed; each must return `expected`. */
int call_global_functions(CK_SLOT_ID slot, CK_RV expected);
