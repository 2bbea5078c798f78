/* pages.h -- does an LMDB file hold every page its newest snapshot uses? (store internal) */

#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "store.h"

/*!
 * Does the LMDB file open as fd, size octets long with pages of psize
 * octets, hold every page its newest meta page's snapshot uses?  For a
 * file shorter than the meta's last page number: the pages past its end
 * must all be on the free list.  Everything is read with pread(), never
 * through a map, so a truncated file cannot fault here.  max_pages bounds
 * the last page number a meta may claim (the largest map).
 *
 * Precondition: the caller holds a read snapshot of the file, begun
 * before the call.  LMDB reuses no page that a snapshot at least as old
 * as the caller's can reach, so the meta and free-list pages read here
 * stay as they are while they are read.  Any thread.
 *
 * \return AZ_EOK (whole), AZ_ECORRUPT (a page in use lies past the end,
 * or the meta or free list does not decode as LMDB data format 1),
 * AZ_ENOMEM, AZ_EIO (errno set).
 */
int az_pages_whole(int fd, size_t psize, off_t size, size_t max_pages);
