/* freeport.c -- print a loopback port that is free for both UDP and TCP. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FREEPORT_TRIES	50

/*
 * Let the kernel pick a free TCP port, then check that UDP can bind the
 * same number too.  Both sockets are closed before printing: the port is
 * only "likely free" when the caller binds it, which is all a test needs.
 * Returns the port, or 0 if this attempt failed.
 */
static unsigned short try_port(void)
{
	struct sockaddr_in sa;
	socklen_t sa_len = sizeof(sa);
	unsigned short port = 0;
	int tcp = -1, udp = -1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;

	tcp = socket(AF_INET, SOCK_STREAM, 0);
	if (tcp < 0) {
		goto out;
	}
	if (bind(tcp, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(tcp, (struct sockaddr *)&sa, &sa_len) != 0) {
		goto out;
	}

	udp = socket(AF_INET, SOCK_DGRAM, 0);
	if (udp < 0) {
		goto out;
	}
	if (bind(udp, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		goto out;
	}
	port = ntohs(sa.sin_port);
out:
	if (udp >= 0) {
		close(udp);
	}
	if (tcp >= 0) {
		close(tcp);
	}
	return port;
}

int main(void)
{
	for (int i = 0; i < FREEPORT_TRIES; i++) {
		unsigned short port = try_port();
		/* Ports below 1024 need privileges the tests may not have. */
		if (port >= 1024) {
			printf("%u\n", port);
			return 0;
		}
	}
	fprintf(stderr, "freeport: no free UDP+TCP port on 127.0.0.1 after %d tries\n",
	        FREEPORT_TRIES);
	return 1;
}
