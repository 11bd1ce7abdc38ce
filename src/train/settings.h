/* A stage's settings as "key=value" strings: what config.txt shows and what a
 * checkpoint stores (checkpoint.h), so that a resumed run reads back exactly the
 * settings it started with.
 *
 * A stage describes its settings struct with a table of fields (key, type, where
 * the member is); these functions write and parse any such table. Numbers are
 * written so that they read back to the same bits (floats %.9g, doubles %.17g).
 * A stage's own keys carry its prefix ("sft.traces", "sample.k"); the model and
 * optimizer keys shared by the next-token stages (pretrain.h) have none. */
#ifndef R1_SETTINGS_H
#define R1_SETTINGS_H

#include <stddef.h>

#include "base/error.h"

typedef enum {
    R1_SETTING_INT,
    R1_SETTING_FLOAT,
    R1_SETTING_DOUBLE,
    R1_SETTING_U64,
    R1_SETTING_STRING,
    R1_SETTING_NAME, /* an enum member, written as the name of its value */
} r1_setting_type;

typedef struct {
    const char *key;
    r1_setting_type type;
    size_t offset; /* of the member in the settings struct */
    size_t size;   /* of the member: a STRING is a char array of this size */
    const char *const *names; /* NAME: the enum's names by value, NULL-terminated */
} r1_setting;

#define R1_SETTING(key, type, settings_struct, member) \
    {key, type, offsetof(settings_struct, member), sizeof(((settings_struct *)0)->member), NULL}
/* An enum member (int-sized) whose values 0, 1, ... are named by names. */
#define R1_SETTING_NAMED(key, settings_struct, member, names) \
    {key, R1_SETTING_NAME, offsetof(settings_struct, member), sizeof(((settings_struct *)0)->member), names}

/* Appends one malloc'd "key=value" string per field of table, read from settings,
 * to the malloc'd array *strings of *n strings (both may start NULL / 0). On
 * failure the array is freed and *strings set to NULL. */
int r1_settings_append(const r1_setting *table, int n_table, const void *settings, char ***strings, size_t *n,
                       r1_err *err);
void r1_settings_free_strings(char **strings, size_t n);

/* Sets the field that "key=value" names. Returns R1_OK; R1_ERR with a message
 * naming the key on a bad value (out of range, trailing text, a string too long, a
 * name not in the list);
 * R1_ERR with *found = 0 and an "unknown key" message when no field has that key.
 * what prefixes the messages ("pretrain", "sft"). */
int r1_settings_set(const r1_setting *table, int n_table, void *settings, const char *what, const char *key_value,
                    int *found, r1_err *err);

/* Reads a settings file written by r1_settings_write_file: each "key=value" line
 * goes to set(settings, line); '#' lines and "stage=..." are skipped, but the
 * stage must be the one given. Errors name the file and line. */
int r1_settings_read_file(const char *path, const char *stage, int (*set)(void *settings, const char *key_value,
                                                                          r1_err *err),
                          void *settings, r1_err *err);

/* Writes "# comment", "stage=STAGE" and the strings, one a line, to path
 * atomically (PATH.tmp, synced, renamed). */
int r1_settings_write_file(const char *path, const char *stage, const char *comment, char **strings, size_t n,
                           r1_err *err);

#endif
