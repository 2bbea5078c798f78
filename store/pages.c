/* pages.c -- does an LMDB file hold every page its newest snapshot uses?  Read with pread(), never through the map. */

/*
 * az_store_check() must tell a truncated data file from a whole one before
 * anything reads LMDB's map: a page past the end of the file raises
 * SIGBUS.  The newest meta page names the last page number LMDB has
 * allocated (me_last_pgno), but the file need not reach it.  A write
 * transaction that allocates pages at the end of the file and frees them
 * again before it commits (a record grown twice in one batch, a split
 * page merged back) never writes them: it records them as free, and the
 * file ends before them.  Such a file is whole; it is short only when a
 * page the snapshot uses lies past its end, and those are exactly the
 * pages past the end that are not on the free list.
 *
 * So, when the cheap test (file size against me_last_pgno) fails, this
 * file reads the meta pages and the free-list tree with pread() and marks
 * which pages past the end are free.  The layout read here is LMDB's data
 * format 1 (MDB_DATA_VERSION, the format of every 0.9 release), described
 * below in the types LMDB itself uses, so the compiler lays them out the
 * same way; a meta page of another magic or version is not read further
 * and the file counts as short (the old, conservative answer).  Every
 * offset, size and page number comes from a file and is bounded before
 * use; a tree that does not decode counts as short too.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pages.h"

#define LM_MAGIC	0xBEEFC0DEu
#define LM_VERSION	1
#define LM_FREE_DBI	0
#define LM_P_BRANCH	0x01
#define LM_P_LEAF	0x02
#define LM_P_OVERFLOW	0x04
#define LM_F_BIGDATA	0x01	/* node data is on overflow pages */
#define LM_MAX_DEPTH	32	/* LMDB's own cursor stack */
#define LM_NO_PAGE	(~(size_t)0)

/* The head of every page (MDB_page without its pointer array). */
typedef struct {
	size_t pgno;
	uint16_t pad;
	uint16_t flags;
	union {
		struct {
			uint16_t lower;	/* end of the pointer array */
			uint16_t upper;
		} b;
		uint32_t pages;		/* overflow pages: how many */
	} u;
} lm_page_t;

typedef struct {
	uint32_t pad;			/* free DB: the page size */
	uint16_t flags;
	uint16_t depth;
	size_t branch_pages, leaf_pages, overflow_pages, entries;
	size_t root;
} lm_db_t;

/* MDB_meta, right after the page head of pages 0 and 1. */
typedef struct {
	uint32_t magic;
	uint32_t version;
	void *address;
	size_t mapsize;
	lm_db_t dbs[2];
	size_t last_pg;
	size_t txnid;
} lm_meta_t;

/* The fixed head of a node; its key, then its data, follow. */
typedef struct {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint16_t lo, hi;
#else
	uint16_t hi, lo;
#endif
	uint16_t flags;		/* branch nodes: bits 32..47 of the page number */
	uint16_t ksize;
} lm_node_t;

/* Where a page's pointer array (or an overflow page's data) begins. */
#define LM_HDR		sizeof(lm_page_t)

typedef struct {
	int fd;
	size_t psize;
	uint64_t pages;		/* whole pages in the file */
	uint64_t last;		/* the newest meta's last page number */
	uint8_t *tail;		/* bitmap of pages [pages, last]: free */
	uint64_t marked;	/* bits set in tail */
	uint64_t visited;	/* tree pages read, bounded by last + 1 */
} walk_t;

/* Read page pgno into buf (psize octets); it must lie inside the file. */
static int read_page(walk_t *w, uint64_t pgno, uint8_t *buf)
{
	if (pgno >= w->pages || ++w->visited > w->last + 1) {
		return AZ_ECORRUPT;	/* the free list itself is cut off */
	}
	ssize_t n = pread(w->fd, buf, w->psize, (off_t)(pgno * w->psize));
	if (n < 0) {
		return AZ_EIO;
	}
	lm_page_t head;
	memcpy(&head, buf, sizeof(head));
	return (size_t)n == w->psize && head.pgno == pgno ? AZ_EOK : AZ_ECORRUPT;
}

/* Mark the free pages of one free-list entry: a count, then page numbers. */
static void mark_ids(walk_t *w, const uint8_t *data, size_t len)
{
	size_t count, id;
	if (len < sizeof(count)) {
		return;
	}
	memcpy(&count, data, sizeof(count));
	if (count > len / sizeof(id) - 1) {
		count = len / sizeof(id) - 1;
	}
	for (size_t i = 1; i <= count; i++) {
		memcpy(&id, data + i * sizeof(id), sizeof(id));
		if (id >= w->pages && id <= w->last) {
			uint64_t bit = id - w->pages;
			if (!(w->tail[bit / 8] & (1u << (bit % 8)))) {
				w->tail[bit / 8] |= (uint8_t)(1u << (bit % 8));
				w->marked++;
			}
		}
	}
}

/* The data of a leaf node kept on overflow pages. */
static int read_big(walk_t *w, const uint8_t *at, size_t room, size_t len)
{
	size_t pgno;
	lm_page_t head;
	if (room < sizeof(pgno)) {
		return AZ_ECORRUPT;
	}
	memcpy(&pgno, at, sizeof(pgno));
	uint8_t *buf = malloc(w->psize);
	if (buf == NULL) {
		return AZ_ENOMEM;
	}
	int ret = read_page(w, pgno, buf);
	memcpy(&head, buf, sizeof(head));
	free(buf);
	if (ret != AZ_EOK) {
		return ret;
	}
	if (!(head.flags & LM_P_OVERFLOW) || head.u.pages == 0 ||
	    head.u.pages > w->pages - pgno ||
	    len > (uint64_t)head.u.pages * w->psize - LM_HDR) {
		return AZ_ECORRUPT;
	}
	uint8_t *data = malloc(len > 0 ? len : 1);
	if (data == NULL) {
		return AZ_ENOMEM;
	}
	ssize_t n = pread(w->fd, data, len, (off_t)(pgno * w->psize + LM_HDR));
	if (n < 0) {
		ret = AZ_EIO;
	} else if ((size_t)n != len) {
		ret = AZ_ECORRUPT;
	} else {
		mark_ids(w, data, len);
	}
	free(data);
	return ret;
}

/* Walk the subtree at pgno, depth levels from the leaves (1: a leaf). */
static int walk(walk_t *w, uint64_t pgno, unsigned depth)
{
	uint8_t *page = malloc(w->psize);
	lm_page_t head;
	int ret;
	if (page == NULL) {
		return AZ_ENOMEM;
	}
	if ((ret = read_page(w, pgno, page)) != AZ_EOK) {
		goto out;
	}
	memcpy(&head, page, sizeof(head));
	bool leaf = head.flags & LM_P_LEAF;
	if (depth == 0 || leaf != (depth == 1) || (!leaf && !(head.flags & LM_P_BRANCH)) ||
	    head.u.b.lower < LM_HDR || head.u.b.lower > w->psize) {
		ret = AZ_ECORRUPT;
		goto out;
	}
	size_t keys = (head.u.b.lower - LM_HDR) / 2;
	for (size_t i = 0; i < keys && ret == AZ_EOK; i++) {
		uint16_t off;
		lm_node_t node;
		memcpy(&off, page + LM_HDR + 2 * i, sizeof(off));
		if (off < head.u.b.lower || (size_t)off + sizeof(node) > w->psize) {
			ret = AZ_ECORRUPT;
			break;
		}
		memcpy(&node, page + off, sizeof(node));
		size_t at = off + sizeof(node) + node.ksize;
		if (at > w->psize) {
			ret = AZ_ECORRUPT;
		} else if (!leaf) {
			uint64_t child = node.lo | (uint64_t)node.hi << 16;
			if (sizeof(size_t) > 4) {
				child |= (uint64_t)node.flags << 32;
			}
			ret = walk(w, child, depth - 1);
		} else if (node.flags & LM_F_BIGDATA) {
			ret = read_big(w, page + at, w->psize - at,
			               node.lo | (size_t)node.hi << 16);
		} else if (node.flags != 0) {
			ret = AZ_ECORRUPT;	/* no sub-databases in the free list */
		} else {
			size_t len = node.lo | (size_t)node.hi << 16;
			if (len > w->psize - at) {
				ret = AZ_ECORRUPT;
			} else {
				mark_ids(w, page + at, len);
			}
		}
	}
out:
	free(page);
	return ret;
}

/* The newer of the two meta pages, if both parse as format 1. */
static int read_meta(int fd, size_t psize, lm_meta_t *out)
{
	uint8_t buf[LM_HDR + sizeof(lm_meta_t)];
	lm_meta_t m[2];
	for (int i = 0; i < 2; i++) {
		ssize_t n = pread(fd, buf, sizeof(buf), (off_t)(i * psize));
		if (n < 0) {
			return AZ_EIO;
		}
		memcpy(&m[i], buf + LM_HDR, sizeof(m[i]));
		if ((size_t)n != sizeof(buf) || m[i].magic != LM_MAGIC ||
		    m[i].version != LM_VERSION || m[i].dbs[LM_FREE_DBI].pad != psize) {
			return AZ_ECORRUPT;
		}
	}
	*out = m[m[0].txnid < m[1].txnid];
	return AZ_EOK;
}

int az_pages_whole(int fd, size_t psize, off_t size, size_t max_pages)
{
	lm_meta_t meta;
	int ret = read_meta(fd, psize, &meta);
	if (ret != AZ_EOK) {
		return ret;
	}
	walk_t w = {
		.fd = fd,
		.psize = psize,
		.pages = (uint64_t)size / psize,
		.last = meta.last_pg,
	};
	if (w.last < w.pages) {
		return AZ_EOK;		/* a commit since the caller looked */
	}
	if (w.last >= max_pages) {
		return AZ_ECORRUPT;	/* no map is that large */
	}
	const lm_db_t *fdb = &meta.dbs[LM_FREE_DBI];
	if (fdb->root == LM_NO_PAGE || fdb->depth == 0 || fdb->depth > LM_MAX_DEPTH) {
		return AZ_ECORRUPT;	/* nothing is free, yet pages are missing */
	}
	uint64_t missing = w.last + 1 - w.pages;
	w.tail = calloc(missing / 8 + 1, 1);
	if (w.tail == NULL) {
		return AZ_ENOMEM;
	}
	ret = walk(&w, fdb->root, fdb->depth);
	if (ret == AZ_EOK && w.marked != missing) {
		ret = AZ_ECORRUPT;	/* a page in use lies past the end */
	}
	free(w.tail);
	return ret;
}
