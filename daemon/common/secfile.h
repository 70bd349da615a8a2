/* daemon/common/secfile.h — reading a file that holds a secret (a private key, a tss-lib
 * save file) straight into secure memory (tss/secmem.h: locked, not dumped, wiped on free),
 * so that no copy lands in stdio buffers or the ordinary heap. */
#ifndef MPCD_SECFILE_H
#define MPCD_SECFILE_H

#include <stddef.h>
#include <stdint.h>

/* Reads the regular file at path (at most max bytes) into *buf (secure memory with one
 * extra NUL byte; free with tss_secmem_free) and its length into *len. 0, or -1 with
 * why[0..cap) naming the path and the cause (missing, not a regular file, too large, a
 * read error, out of memory); *buf is then NULL. */
int mpcd_secfile_read(const char *path, size_t max, uint8_t **buf, size_t *len, char *why,
                      size_t cap);

#endif
