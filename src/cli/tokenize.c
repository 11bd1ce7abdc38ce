/* r1 tokenize / r1 detokenize: text ⇄ token ids with a model's tokenizer. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "tokenizer/tokenizer.h"

static const char *tokenize_usage =
    "usage: r1 tokenize [-m MODEL] [--bos] [--no-special]\n"
    "Reads UTF-8 text on stdin and prints its token ids on one line, separated by\n"
    "spaces. MODEL is a GGUF or a Hugging Face tokenizer.json (tokenizer_config.json\n"
    "beside it is read too); default: the embedded r1-tiny model.\n"
    "  --bos         start with the model's BOS token (none unless asked)\n"
    "  --no-special  treat the text of special tokens (GGUF token type CONTROL, or\n"
    "                \"special\": true in tokenizer.json: <｜begin▁of▁sentence｜>, ...)\n"
    "                as plain text; by default it becomes the token. Added tokens that\n"
    "                are not special (<think>, </think>) are always single tokens.\n"
    "Invalid UTF-8 in the input is not an error: each invalid stretch (maximal\n"
    "subpart, as Python and Rust count them) is replaced by U+FFFD before tokenizing.\n";

static const char *detokenize_usage =
    "usage: r1 detokenize [-m MODEL]\n"
    "Reads token ids on stdin, separated by whitespace, and writes the tokens' bytes\n"
    "to stdout exactly, with nothing added: detokenize(tokenize(text)) == text for\n"
    "valid UTF-8 text (NFC-normalized when tokenizer.json asks for NFC). Ids that split a character, or form invalid UTF-8, are\n"
    "written as they are (no replacement). MODEL: a GGUF or a tokenizer.json (default:\n"
    "the embedded r1-tiny model).\n";

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static int load(const char *path, r1_tokenizer **tok) {
    r1_err err;
    if (path) return r1_tokenizer_load_file(tok, path, &err) == R1_OK ? R1_OK : (cli_error("%s", err.msg), R1_ERR);
    r1_gguf g;
    if (cli_gguf_open(&g, NULL) != R1_OK) return R1_ERR;
    int rc = r1_tokenizer_load_gguf(tok, &g, &err);
    r1_gguf_close(&g);
    return rc == R1_OK ? R1_OK : (cli_error("%s", err.msg), R1_ERR);
}

int cmd_tokenize(int argc, char **argv) {
    const char *model_path = NULL;
    int bos = 0, special = 1;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) return fputs(tokenize_usage, stdout), 0;
        else if (!strcmp(argv[i], "-m")) { if (!(model_path = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(argv[i], "--bos")) bos = 1;
        else if (!strcmp(argv[i], "--no-special")) special = 0;
        else return cli_error("tokenize: unknown option '%s' (see r1 tokenize --help)", argv[i]);
    }
    r1_tokenizer *tok;
    if (load(model_path, &tok) != R1_OK) return 1;
    char *text;
    size_t len;
    if (cli_read_stdin(&text, &len) != R1_OK) {
        r1_tokenizer_free(tok);
        return 1;
    }
    int *ids, n_ids;
    r1_err err;
    int status = r1_tokenize(tok, text, len, bos, special, &ids, &n_ids, &err);
    free(text);
    r1_tokenizer_free(tok);
    if (status != R1_OK) return cli_error("%s", err.msg);
    for (int i = 0; i < n_ids; i++) printf(i ? " %d" : "%d", ids[i]);
    putchar('\n');
    free(ids);
    return fflush(stdout) == 0 ? 0 : cli_error("cannot write the token ids");
}

int cmd_detokenize(int argc, char **argv) {
    const char *model_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) return fputs(detokenize_usage, stdout), 0;
        else if (!strcmp(argv[i], "-m")) { if (!(model_path = cli_value(argc, argv, &i))) return 1; }
        else return cli_error("detokenize: unknown option '%s' (see r1 detokenize --help)", argv[i]);
    }
    r1_tokenizer *tok;
    if (load(model_path, &tok) != R1_OK) return 1;
    char *text;
    size_t len;
    if (cli_read_stdin(&text, &len) != R1_OK) {
        r1_tokenizer_free(tok);
        return 1;
    }
    int status = 0;
    const char *p = text, *end = text + len;
    while (p < end && status == 0) {
        while (p < end && is_blank(*p)) p++;
        if (p == end) break;
        long id = 0;
        const char *start = p;
        while (p < end && *p >= '0' && *p <= '9' && id <= INT_MAX) id = id * 10 + (*p++ - '0');
        const char *bytes;
        size_t n;
        if (p == start || (p < end && !is_blank(*p)) || id > INT_MAX) {
            int word = 0;
            while (start + word < end && word < 20 && !is_blank(start[word])) word++;
            status = cli_error("detokenize: '%.*s' is not a token id (expected non-negative integers)", word, start);
        }
        else if (r1_token_to_bytes(tok, (int)id, &bytes, &n) != R1_OK)
            status = cli_error("detokenize: token id %ld is out of range (vocabulary of %d)", id,
                               r1_tokenizer_n_vocab(tok));
        else
            fwrite(bytes, 1, n, stdout);
    }
    free(text);
    r1_tokenizer_free(tok);
    if (status == 0 && fflush(stdout) != 0) status = cli_error("cannot write the text");
    return status;
}
