/* The default model linked into ./r1, so that `r1 run "..."` works without -m
 * from any directory (DESIGN §4). The Makefile passes the file's path as
 * R1_EMBEDDED_MODEL (models/r1-tiny.gguf) and reassembles this file when the
 * model changes (.incbin is invisible to the compiler's dependency lists).
 * cli.c reads the bytes between the two symbols with r1_gguf_open_memory, in
 * place: like a mapped file, they are paged in from the binary as they are used.
 * GNU as syntax for ELF targets (x86-64 Linux with GCC). */

    .section .rodata
    /* a page boundary, as mmap gives a file: tensor data offsets are multiples of
     * general.alignment from the start of the file, so the views stay aligned */
    .balign 4096
    .globl r1_embedded_model
    .type r1_embedded_model, @object
r1_embedded_model:
    .incbin R1_EMBEDDED_MODEL
    .globl r1_embedded_model_end
r1_embedded_model_end:
    .size r1_embedded_model, r1_embedded_model_end - r1_embedded_model

    /* data only: without this note the linker would assume an executable stack */
    .section .note.GNU-stack, "", @progbits
