/* Replays inputs through a fuzz target without libFuzzer, so the corpora run
 * as ordinary tests (gcc, valgrind). Each argument is a file or a directory
 * whose files (not dot files) are replayed in name order. Each input is read
 * into an allocation of exactly its size, so over-reads are caught. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        perror(path);
        if (f)
            fclose(f);
        return 1;
    }
    size_t size = (size_t)st.st_size;
    uint8_t *data = malloc(size ? size : 1);
    FUZZ_CHECK(data != NULL);
    int bad = fread(data, 1, size, f) != size;
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: short read\n", path);
    } else {
        fprintf(stderr, "%s\n", path);
        LLVMFuzzerTestOneInput(data, size);
    }
    free(data);
    return bad;
}

static int not_hidden(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

int main(int argc, char **argv)
{
    int failed = 0, runs = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            failed = 1;
        } else if (!S_ISDIR(st.st_mode)) {
            failed |= run_file(argv[i]);
            runs++;
        } else {
            struct dirent **names;
            int n = scandir(argv[i], &names, not_hidden, alphasort);
            if (n < 0) {
                perror(argv[i]);
                failed = 1;
            }
            for (int j = 0; j < n; j++) {
                size_t len = strlen(argv[i]) + strlen(names[j]->d_name) + 2;
                char *path = malloc(len);
                FUZZ_CHECK(path != NULL);
                snprintf(path, len, "%s/%s", argv[i], names[j]->d_name);
                failed |= run_file(path);
                runs++;
                free(path);
                free(names[j]);
            }
            free(names);
        }
    }
    printf("%d inputs replayed%s\n", runs, failed ? ", some unreadable" : "");
    return failed || runs == 0;
}
