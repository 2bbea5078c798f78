/* cert.c -- an issued certificate's notAfter, read with GnuTLS (never by hand: X.509 is DER). */
/* SPDX-License-Identifier: MIT */

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "cert.h"

#define CERT_FILE_MAX	(1 << 20)	/* a chain is a few KiB */

/*
 * GnuTLS is loaded when a certificate is read, not linked: linked, its
 * start-up (its constructor's global init, and a dozen libraries: nettle,
 * gmp, p11-kit, libtasn1, libidn2...) made every CLI process start about
 * 14 ms slower on the 2-core VM (a bare program: 8 ms median, 23 ms with
 * -lgnutls), and 'acmezone add' is on the ACME client's critical path.
 * Only the deploy hooks read certificates.  The soname has been
 * libgnutls.so.30 since GnuTLS 3.4 (2015); the prototypes come from its
 * headers (configure: pkg-config gnutls).
 */
#define GNUTLS_SONAME	"libgnutls.so.30"

typedef struct {
	void *dl;
	__typeof__(gnutls_x509_crt_init) *crt_init;
	__typeof__(gnutls_x509_crt_import) *crt_import;
	__typeof__(gnutls_x509_crt_get_expiration_time) *crt_expiration;
	__typeof__(gnutls_x509_crt_deinit) *crt_deinit;
	__typeof__(gnutls_strerror) *strerror;
} gtls_t;

static int gtls_load(gtls_t *g, char why[CERT_WHY_MAX])
{
	g->dl = dlopen(GNUTLS_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (g->dl == NULL) {
		snprintf(why, CERT_WHY_MAX, "cannot load GnuTLS (%s)", dlerror());
		return -1;
	}
	/* POSIX: a function pointer may be converted from dlsym's void *. */
	*(void **)&g->crt_init = dlsym(g->dl, "gnutls_x509_crt_init");
	*(void **)&g->crt_import = dlsym(g->dl, "gnutls_x509_crt_import");
	*(void **)&g->crt_expiration = dlsym(g->dl, "gnutls_x509_crt_get_expiration_time");
	*(void **)&g->crt_deinit = dlsym(g->dl, "gnutls_x509_crt_deinit");
	*(void **)&g->strerror = dlsym(g->dl, "gnutls_strerror");
	if (g->crt_init == NULL || g->crt_import == NULL || g->crt_expiration == NULL ||
	    g->crt_deinit == NULL || g->strerror == NULL) {
		snprintf(why, CERT_WHY_MAX, "cannot load GnuTLS (a function is missing "
		         "from " GNUTLS_SONAME ")");
		dlclose(g->dl);
		return -1;
	}
	return 0;
}

/* The whole file, at most CERT_FILE_MAX octets.  \return 0, or -1 (errno). */
static int slurp(const char *path, unsigned char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0;

	*buf = NULL;
	if (f == NULL) {
		return -1;
	}
	*buf = malloc(CERT_FILE_MAX + 1);
	if (*buf != NULL) {
		n = fread(*buf, 1, CERT_FILE_MAX + 1, f);
	}
	int bad = *buf == NULL || ferror(f);
	fclose(f);
	if (bad || n > CERT_FILE_MAX) {
		free(*buf);
		*buf = NULL;
		errno = bad ? EIO : EFBIG;
		return -1;
	}
	*len = n;
	return 0;
}

int cert_not_after(const char *path, int64_t *not_after, char why[CERT_WHY_MAX])
{
	gnutls_x509_crt_t crt = NULL;
	gtls_t g;
	unsigned char *buf = NULL;
	size_t len = 0;
	int ret = -1, err;

	if (slurp(path, &buf, &len) != 0) {
		snprintf(why, CERT_WHY_MAX, "cannot read it (%s)", strerror(errno));
		return -1;
	}
	if (gtls_load(&g, why) != 0) {
		free(buf);
		return -1;
	}
	gnutls_datum_t d = { buf, (unsigned)len };
	if ((err = g.crt_init(&crt)) < 0) {
		snprintf(why, CERT_WHY_MAX, "GnuTLS: %s", g.strerror(err));
		goto out;
	}
	/* PEM (what every client writes), else DER. */
	err = g.crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
	if (err < 0 && (err = g.crt_import(crt, &d, GNUTLS_X509_FMT_DER)) < 0) {
		snprintf(why, CERT_WHY_MAX, "unparsable certificate (%s)", g.strerror(err));
		goto out;
	}
	time_t t = g.crt_expiration(crt);
	if (t == (time_t)-1) {
		snprintf(why, CERT_WHY_MAX, "unparsable certificate (no notAfter)");
		goto out;
	}
	*not_after = (int64_t)t;
	ret = 0;
out:
	if (crt != NULL) {
		g.crt_deinit(crt);
	}
	dlclose(g.dl);
	free(buf);
	return ret;
}
