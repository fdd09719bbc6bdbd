/* dpacct/status.h - status codes, their names, and the error hook.
 *
 * Every library function returns one of these codes; results go through
 * pointers.  The library never aborts: an optional hook sees each error. */
#ifndef DPACCT_STATUS_H
#define DPACCT_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

enum {
  DPACCT_OK = 0,       /* success */
  DPACCT_EDOM = 1,     /* an argument is outside its documented domain */
  DPACCT_ERANGE = 2,   /* the answer does not fit (overflow, unreachable target) */
  DPACCT_ENOMEM = 3,   /* memory could not be allocated */
  DPACCT_EMAXITER = 4, /* an iteration did not converge within its limit */
  DPACCT_EUNSUP = 5,   /* the accountant does not support this event */
  DPACCT_ENUMERIC = 6, /* a numerical method failed (NaN, lost precision) */
  DPACCT_EINVAL = 7    /* invalid use of the API (NULL pointer, wrong state) */
};

/* A short English description of CODE; never NULL. */
const char *dpacct_strerror (int code);

/* Called on each error with the code, a message, and the reporting
 * function's name.  It must return: the library goes on to return CODE. */
typedef void dpacct_error_handler (int code, const char *message,
                                   const char *where);

/* Installs HANDLER for the whole process (NULL: no handler, the default)
 * and returns the previous one.  Install it once, before starting threads. */
dpacct_error_handler *dpacct_set_error_handler (dpacct_error_handler *handler);

/* Reports CODE with MESSAGE, from the function WHERE, to the installed
 * handler (if any) and returns CODE.  For modules built on libdpacct, such
 * as the trainer (libdpacct_train), so that their errors reach the same
 * handler. */
int dpacct_error_report (int code, const char *message, const char *where);

#ifdef __cplusplus
}
#endif
#endif
