/* The check before an atomic write (output_file.h). */
#include "base/output_file.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

int r1_output_file_check(const char *path, r1_err *err) {
    if (!path || !*path) return r1_fail(err, "output file: the path is empty");
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT) return R1_OK;
        return r1_fail(err, "%s: cannot check the output path: %s", path, strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) return r1_fail(err, "%s is a directory: name an output file", path);
    if (!S_ISREG(st.st_mode))
        return r1_fail(err, "%s is not a regular file (a device, FIFO or socket): r1 writes its output to a "
                            "temporary file renamed over the path, which would replace it; name a file",
                       path);
    return R1_OK;
}
