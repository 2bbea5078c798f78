/* registry.c -- one shared object per store file per process, keyed by canonical path and inode. */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "registry.h"
#include "store.h"

struct az_reg_entry {
	az_reg_entry_t *next;
	char *path;		/* canonical */
	bool has_id;		/* dev and ino are known */
	dev_t dev;
	ino_t ino;
	unsigned refs;
	void *obj;
};

char *az_registry_canonical(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash != NULL ? slash + 1 : path;
	char *dir = NULL, *real = NULL, *out = NULL;

	if (base[0] == '\0') {
		return strdup(path);	/* names a directory: let the open say so */
	}
	if (slash == NULL) {
		dir = strdup(".");
	} else if (slash == path) {
		dir = strdup("/");
	} else {
		dir = strndup(path, (size_t)(slash - path));
	}
	if (dir == NULL) {
		return NULL;
	}
	real = realpath(dir, NULL);
	if (real == NULL) {
		out = strdup(path);
	} else {
		size_t n = strlen(real) + 1 + strlen(base) + 1;
		out = malloc(n);
		if (out != NULL) {
			/* realpath() gives "/" for the root, no slash otherwise. */
			snprintf(out, n, "%s%s%s", real,
			         real[strlen(real) - 1] == '/' ? "" : "/", base);
		}
	}
	free(real);
	free(dir);
	return out;
}

/* Under the lock: does e name the file (key, or sb if have) ? */
static bool entry_matches(const az_reg_entry_t *e, const char *key, bool have,
                          const struct stat *sb)
{
	struct stat cur;
	if (strcmp(e->path, key) == 0) {
		return true;
	}
	/* Another spelling of the same file: the same inode, and still the
	 * one at the entry's own path (inode numbers are reused). */
	return have && e->has_id && e->dev == sb->st_dev && e->ino == sb->st_ino &&
	       stat(e->path, &cur) == 0 && cur.st_dev == sb->st_dev &&
	       cur.st_ino == sb->st_ino;
}

int az_registry_attach(az_registry_t *reg, const char *path,
                       const az_registry_ops_t *ops, void *arg, void **out)
{
	if (reg == NULL || path == NULL || ops == NULL || ops->make == NULL ||
	    out == NULL) {
		return AZ_EINVAL;
	}
	char *key = az_registry_canonical(path);
	if (key == NULL) {
		return AZ_ENOMEM;
	}
	struct stat sb;
	bool have = stat(key, &sb) == 0;
	int ret = AZ_EOK;

	pthread_mutex_lock(&reg->lock);
	az_reg_entry_t *e = reg->head;
	while (e != NULL && !entry_matches(e, key, have, &sb)) {
		e = e->next;
	}
	if (e != NULL) {
		if (!e->has_id && have && strcmp(e->path, key) == 0) {
			e->has_id = true;	/* the file appeared since */
			e->dev = sb.st_dev;
			e->ino = sb.st_ino;
		}
		e->refs++;
		if (ops->join != NULL) {
			ops->join(e->obj, arg);
		}
		*out = e->obj;
		goto out;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->obj = ops->make(key, arg)) == NULL) {
		free(e);
		ret = AZ_ENOMEM;
		goto out;
	}
	e->path = key;
	key = NULL;
	e->has_id = have;
	e->dev = have ? sb.st_dev : 0;
	e->ino = have ? sb.st_ino : 0;
	e->refs = 1;
	e->next = reg->head;
	reg->head = e;
	*out = e->obj;
out:
	pthread_mutex_unlock(&reg->lock);
	free(key);
	return ret;
}

bool az_registry_detach(az_registry_t *reg, void *obj, void (*destroy)(void *obj))
{
	if (reg == NULL || obj == NULL) {
		return false;
	}
	bool last = false;
	pthread_mutex_lock(&reg->lock);
	for (az_reg_entry_t **p = &reg->head; *p != NULL; p = &(*p)->next) {
		az_reg_entry_t *e = *p;
		if (e->obj != obj) {
			continue;
		}
		if (--e->refs == 0) {
			*p = e->next;
			last = true;
			/* Still under the lock: see the header. */
			if (destroy != NULL) {
				destroy(obj);
			}
			free(e->path);
			free(e);
		}
		break;
	}
	pthread_mutex_unlock(&reg->lock);
	return last;
}

unsigned az_registry_refs(az_registry_t *reg, const void *obj)
{
	unsigned refs = 0;
	pthread_mutex_lock(&reg->lock);
	for (az_reg_entry_t *e = reg->head; e != NULL; e = e->next) {
		if (e->obj == obj) {
			refs = e->refs;
			break;
		}
	}
	pthread_mutex_unlock(&reg->lock);
	return refs;
}
