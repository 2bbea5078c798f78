/* errors.c -- messages for the store's AZ_E* error codes, and the errno behind them. */

#include <errno.h>

#include "store.h"

/* Per thread: the store is used from several threads (the BIND driver). */
static _Thread_local int last_errno;

int az_fail(int code)
{
	last_errno = errno;
	return code;
}

int az_errno(void)
{
	return last_errno;
}

const char *az_strerror(int code)
{
	switch (code) {
	case AZ_EOK:      return "success";
	case AZ_EINVAL:   return "invalid input";
	case AZ_ENOENT:   return "not found";
	case AZ_ENOMEM:   return "out of memory";
	case AZ_EIO:      return "input/output error";
	case AZ_ECORRUPT: return "corrupt data (a record that does not decode, or a truncated file)";
	case AZ_ESCHEMA:  return "unsupported schema version (written by a newer acmezone?)";
	case AZ_EFULL:    return "database full (map size or disk)";
	case AZ_ELMDB:    return "LMDB error";
	case AZ_EPERM:    return "permission denied or untrusted file";
	case AZ_ENOTINIT: return "not an acmezone database (run 'acmezone init')";
	case AZ_ETOOMANY: return "too many values at one name";
	case AZ_EBUSY:    return "busy (reader table full or no answer in time)";
	case AZ_ERESIZED: return "map resized by a writer (reopen needed)";
	case AZ_E2BIG:    return "too large: the values at one name must fit in one DNS message (64 KiB)";
	case AZ_EROFS:    return "read-only file system";
	case AZ_EUNSERVED: return "a server that reads the store cannot read it";
	case AZ_EROLLBACK: return "the lock file's transaction id is behind the data "
	                          "file (rolled back by a process that may write it)";
	default:          return "unknown error";
	}
}
