/* Output files that r1 writes atomically: the data goes to PATH.tmp, which is
 * renamed over PATH once complete, so a reader never sees half a file and an
 * interrupted write leaves the old one. A rename replaces whatever PATH names, so
 * the target is checked first: it may be absent or a regular file, nothing else. */
#ifndef R1_OUTPUT_FILE_H
#define R1_OUTPUT_FILE_H

#include "base/error.h"

/* R1_OK when path is a name r1 can write atomically: not empty, and either absent
 * or a regular file (through a symbolic link, the link itself is replaced). A
 * directory, a device such as /dev/null, a FIFO or a socket fails, naming it. */
int r1_output_file_check(const char *path, r1_err *err);

#endif
