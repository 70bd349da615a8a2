/* tss/fuzz/replay.c — runs a fuzz target's inputs without libFuzzer, so that the
 * regression corpus (tss/fuzz/regress/<target>/) is replayed by ctest in the normal and
 * the sanitizer builds. Usage: replay_<target> FILE|DIR...; a directory contributes its
 * regular files in name order. Exits non-zero when no input was found; a failing input
 * aborts, as under libFuzzer. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (len == cap) {
            cap = cap ? 2 * cap : 4096;
            uint8_t *g = realloc(buf, cap);
            if (g == NULL) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = g;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Returns the number of inputs run, or -1. */
static long run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        perror(dir);
        return -1;
    }
    char **names = NULL;
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char **g = realloc(names, (count + 1) * sizeof *names);
        if (g == NULL || (g[count] = malloc(strlen(dir) + strlen(e->d_name) + 2)) == NULL) {
            free(g ? g : names);
            closedir(d);
            return -1;
        }
        names = g;
        sprintf(names[count++], "%s/%s", dir, e->d_name);
    }
    closedir(d);
    qsort(names, count, sizeof *names, cmp_names);
    long run = 0;
    for (size_t k = 0; k < count; k++) {
        struct stat sb;
        if (stat(names[k], &sb) == 0 && S_ISREG(sb.st_mode) && run >= 0)
            run = run_file(names[k]) == 0 ? run + 1 : -1;
        free(names[k]);
    }
    free(names);
    return run;
}

int main(int argc, char **argv)
{
    long total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        long n = stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode) ? run_dir(argv[i])
                                                                : (run_file(argv[i]) == 0 ? 1 : -1);
        if (n < 0)
            return 1;
        total += n;
    }
    printf("%s: %ld inputs replayed, no failure\n", argc > 0 ? argv[0] : "replay", total);
    return total > 0 ? 0 : 1;
}
