/* Settings tables as key=value strings and files (see settings.h). */
#include "train/settings.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void r1_settings_free_strings(char **strings, size_t n) {
    if (!strings) return;
    for (size_t i = 0; i < n; i++) free(strings[i]);
    free(strings);
}

/* The name of an enum setting's value, or NULL when it has none. */
static const char *setting_name(const r1_setting *field, int value) {
    for (int v = 0; field->names[v]; v++)
        if (v == value) return field->names[v];
    return NULL;
}

/* "a|b|c": the names an enum setting takes, for its error message. */
static void list_names(const r1_setting *field, char *out, size_t size) {
    size_t used = 0;
    out[0] = 0;
    for (int v = 0; field->names[v] && used < size; v++)
        used += (size_t)snprintf(out + used, size - used, "%s%s", v ? "|" : "", field->names[v]);
}

int r1_settings_append(const r1_setting *table, int n_table, const void *settings, char ***strings, size_t *n,
                       r1_err *err) {
    char **grown = realloc(*strings, (*n + (size_t)n_table) * sizeof *grown);
    if (!grown) {
        r1_settings_free_strings(*strings, *n);
        *strings = NULL;
        return r1_fail(err, "settings: out of memory for %zu strings", *n + (size_t)n_table);
    }
    *strings = grown;
    for (int i = 0; i < n_table; i++) {
        const void *at = (const char *)settings + table[i].offset;
        char number[64];
        const char *value = number;
        switch (table[i].type) {
        case R1_SETTING_INT: snprintf(number, sizeof number, "%d", *(const int *)at); break;
        case R1_SETTING_FLOAT: snprintf(number, sizeof number, "%.9g", *(const float *)at); break;
        case R1_SETTING_DOUBLE: snprintf(number, sizeof number, "%.17g", *(const double *)at); break;
        case R1_SETTING_U64: snprintf(number, sizeof number, "%llu", (unsigned long long)*(const uint64_t *)at); break;
        case R1_SETTING_STRING: value = at; break;
        case R1_SETTING_NAME: value = setting_name(&table[i], *(const int *)at); break;
        }
        if (!value) {
            r1_settings_free_strings(*strings, *n);
            *strings = NULL;
            return r1_fail(err, "settings: %s holds %d, which has no name", table[i].key, *(const int *)at);
        }
        if (strpbrk(value, "\n\r")) {
            r1_settings_free_strings(*strings, *n);
            *strings = NULL;
            return r1_fail(err, "settings: %s holds a line break", table[i].key);
        }
        size_t size = strlen(table[i].key) + strlen(value) + 2;
        char *s = r1_malloc(err, size, "setting string");
        if (!s) {
            r1_settings_free_strings(*strings, *n);
            *strings = NULL;
            return R1_ERR;
        }
        snprintf(s, size, "%s=%s", table[i].key, value);
        (*strings)[(*n)++] = s;
    }
    return R1_OK;
}

int r1_settings_set(const r1_setting *table, int n_table, void *settings, const char *what, const char *key_value,
                    int *found, r1_err *err) {
    *found = 0;
    const char *eq = strchr(key_value, '=');
    if (!eq) return r1_fail(err, "%s: config entry '%s' has no '='", what, key_value);
    size_t key_len = (size_t)(eq - key_value);
    const char *value = eq + 1;
    for (int i = 0; i < n_table; i++) {
        if (strlen(table[i].key) != key_len || memcmp(table[i].key, key_value, key_len)) continue;
        *found = 1;
        void *at = (char *)settings + table[i].offset;
        char *end = (char *)value + strlen(value);
        errno = 0;
        switch (table[i].type) {
        case R1_SETTING_INT: {
            long v = strtol(value, &end, 10);
            if (v < -2147483647L || v > 2147483647L) errno = ERANGE;
            *(int *)at = (int)v;
            break;
        }
        case R1_SETTING_FLOAT: *(float *)at = strtof(value, &end); break;
        case R1_SETTING_DOUBLE: *(double *)at = strtod(value, &end); break;
        case R1_SETTING_U64: /* strtoull would wrap "-1" to 2^64 - 1 */
            if (strchr(value, '-')) errno = ERANGE;
            *(uint64_t *)at = strtoull(value, &end, 10);
            break;
        case R1_SETTING_STRING:
            if (strlen(value) >= table[i].size) errno = ERANGE;
            else memcpy(at, value, strlen(value) + 1);
            break;
        case R1_SETTING_NAME: {
            int v = 0;
            while (table[i].names[v] && strcmp(table[i].names[v], value)) v++;
            if (table[i].names[v]) {
                *(int *)at = v;
                break;
            }
            char names[256];
            list_names(&table[i], names, sizeof names);
            return r1_fail(err, "%s: config %s: unknown value '%.200s' (%s)", what, table[i].key, value, names);
        }
        }
        int number = table[i].type != R1_SETTING_STRING && table[i].type != R1_SETTING_NAME;
        /* the strto* functions skip leading blanks; a trailing one already fails */
        if ((number && (end == value || isspace((unsigned char)value[0]))) || *end || errno)
            return r1_fail(err, "%s: config %s: bad value '%.200s'", what, table[i].key, value);
        return R1_OK;
    }
    return r1_fail(err, "%s: unknown config key '%.*s'", what, (int)key_len, key_value);
}

int r1_settings_read_file(const char *path, const char *stage,
                          int (*set)(void *settings, const char *key_value, r1_err *err), void *settings,
                          r1_err *err) {
    FILE *f = fopen(path, "r");
    if (!f) return r1_fail(err, "%s: cannot open %s: %s", stage, path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    long line_no = 0;
    int rc = R1_OK, stage_seen = 0;
    ssize_t len;
    while (rc == R1_OK && (len = getline(&line, &cap, f)) >= 0) {
        line_no++;
        if (len > 0 && line[len - 1] == '\n') line[--len] = 0;
        if (!line[0] || line[0] == '#') continue;
        if (!strncmp(line, "stage=", 6)) {
            stage_seen = 1;
            if (strcmp(line + 6, stage))
                rc = r1_fail(err, "%s: %s:%ld: a '%.64s' settings file, not a %s one", stage, path, line_no,
                             line + 6, stage);
            continue;
        }
        if (set(settings, line, err) != R1_OK) rc = r1_fail_within(err, "%s:%ld: ", path, line_no);
    }
    if (rc == R1_OK && ferror(f)) rc = r1_fail(err, "%s: error reading %s", stage, path);
    if (rc == R1_OK && !stage_seen) rc = r1_fail(err, "%s: %s has no stage= line", stage, path);
    free(line);
    fclose(f);
    return rc;
}

int r1_settings_write_file(const char *path, const char *stage, const char *comment, char **strings, size_t n,
                           r1_err *err) {
    char tmp[1200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return r1_fail(err, "%s: path %.200s... is too long", stage, path);
    FILE *f = fopen(tmp, "w");
    if (!f) return r1_fail(err, "%s: cannot create %s: %s", stage, tmp, strerror(errno));
    int ok = fprintf(f, "# %s\nstage=%s\n", comment, stage) > 0;
    for (size_t i = 0; i < n && ok; i++) ok = fprintf(f, "%s\n", strings[i]) > 0;
    ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return r1_fail(err, "%s: cannot write %s: %s", stage, path, strerror(e));
    }
    return R1_OK;
}
