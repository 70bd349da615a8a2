/* daemon/common/secfile.c — see secfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secfile.h"
#include "tss/secmem.h"

int mpcd_secfile_read(const char *path, size_t max, uint8_t **buf, size_t *len, char *why,
                      size_t cap)
{
    struct stat st;
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    size_t got = 0;
    *buf = NULL;
    *len = 0;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = path ? errno : EINVAL;
        if (fd >= 0)
            close(fd);
        snprintf(why, cap, "%s: %s", path ? path : "(no path)", strerror(e));
        return -1;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > (uint64_t)max) {
        close(fd);
        snprintf(why, cap, "%s: not a regular file of at most %zu bytes", path, max);
        return -1;
    }
    size_t want = (size_t)st.st_size;
    uint8_t *b = tss_secmem_alloc(want + 1);
    while (b && got < want) {
        ssize_t r = read(fd, b + got, want - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!b || got != want) {
        tss_secmem_free(b);
        snprintf(why, cap, "%s: %s", path, b ? "cannot read the whole file" : "out of memory");
        return -1;
    }
    b[want] = 0;
    *buf = b;
    *len = want;
    return 0;
}
