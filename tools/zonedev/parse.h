// SPDX-License-Identifier: MIT
/*
 * parse.h - what a verb's grammar uses: the lexer's tokens, the parser's
 * state, errors at a column ("FILE:LINE:COL: expected ..., found ..."),
 * names defined and resolved in file order, and the argument parsers of
 * args.c (values, choices and trailing key=value options). Nothing here
 * knows a verb: each verb family (verbs_*.c) holds its own grammar.
 */
#ifndef ZONEDEV_TOOL_PARSE_H
#define ZONEDEV_TOOL_PARSE_H

#include "runner.h"

/* ---- lexer (lexer.c) ---- */

enum zr_tok_kind {
	ZR_TOK_WORD,		/* a run of non-blank characters */
	ZR_TOK_STRING,		/* "text", C escapes decoded */
	ZR_TOK_LBRACE,		/* { */
	ZR_TOK_RBRACE,		/* } */
};

struct zr_token {
	enum zr_tok_kind kind;
	char *text;		/* NUL-terminated; a string may hold NULs too */
	size_t len;		/* bytes in text */
	int col;		/* 1-based column of the first character */
};

/*
 * zr_lex_line - split one line (without its newline) into tokens; a '#'
 * outside a string ends it. Returns 0 and sets *tokp / *ntokp (free them
 * with zr_tokens_free), or -EINVAL after reporting a lexical error.
 */
int zr_lex_line(struct zr_parser *p, const char *line, size_t len,
		struct zr_token **tokp, int *ntokp);
void zr_tokens_free(struct zr_token *tok, int ntok);

/* ---- the parser (parse.c) ---- */

/* The parser's state: the program being built and the current line. */
struct zr_parser {
	struct zr_program *prog;
	FILE *err;			/* where errors go */
	int nerrors;
	int line;
	struct zr_token *tok;		/* tokens of the current line */
	int ntok, pos;
	const char *src;		/* the current line, trimmed */
	int indent;			/* blanks trimmed before src */
	const struct zr_cmd *cmd;	/* the command being parsed */
	struct zr_block *block;		/* main, or the open thread body */
	int thread;			/* the open thread block, or -1 */
	int thread_line;
	bool *running;			/* thread started and not joined (main's view) */
	int *started_line;		/* line of each thread's closing brace */
	bool have_first, said_first;	/* the ZR_VERB_FIRST command: seen, misplaced */
	int first_line;
};

/* Program-owned memory, freed with the program. */
void *zr_palloc(struct zr_parser *p, size_t size);
char *zr_pstrdup(struct zr_parser *p, const char *s, size_t len);

/* Report a parse error at @col of the current line; returns -EINVAL. */
int zr_perr(struct zr_parser *p, int col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Error at the current token (or the end of the line). */
int zr_perr_here(struct zr_parser *p, const char *expected);

/* Names: define (error if already defined) and look up (error if not). */
int zr_define(struct zr_parser *p, enum zr_kind kind, int owner, const struct zr_token *t,
	      int *idx);
int zr_resolve(struct zr_parser *p, enum zr_kind kind, int owner, const struct zr_token *t,
	       int *idx);
/* Define if new, else return the existing one (reference sets). */
int zr_define_or_get(struct zr_parser *p, enum zr_kind kind, int owner,
		     const struct zr_token *t, int *idx);
/* Give owner @to every @kind name owner @from has (fork: the child's regions). */
int zr_names_inherit(struct zr_parser *p, enum zr_kind kind, int from, int to);
/* `thread NAME {`: define the thread and make its body the open block. */
int zr_open_thread(struct zr_parser *p, const struct zr_token *t, struct zr_cmd *cmd);
/* `join NAME`: NAME must be running in the main script's order. */
int zr_join_thread(struct zr_parser *p, const struct zr_token *t, int *idx);
/* `join`: every running thread. */
void zr_join_all(struct zr_parser *p);

/* ---- argument parsers (args.c): each consumes tokens of the current line ---- */

struct zr_token *zr_peek(struct zr_parser *p);
struct zr_token *zr_next(struct zr_parser *p);
/* The token @n after the current one, or NULL. */
struct zr_token *zr_peek_ahead(struct zr_parser *p, int n);
/* The token just consumed (for a message about it). */
struct zr_token *zr_prev(struct zr_parser *p);
int zr_expect_end(struct zr_parser *p);
bool zr_is_name(const char *s);
int zr_parse_size_str(const char *s, uint64_t *out);
int zr_parse_uint_str(const char *s, uint64_t *out);
int zr_parse_duration_str(const char *s, uint64_t *ns);
/* "(4096, 4K, 2M, 1G, 0x1000 or 3p)" */
extern const char zr_size_forms[];

/* A name token ([A-Za-z_][A-Za-z0-9_]*), @what for the message. */
int zr_arg_name(struct zr_parser *p, const char *what, struct zr_token **t);
int zr_arg_size(struct zr_parser *p, const char *what, uint64_t *v);
int zr_arg_uint(struct zr_parser *p, const char *what, uint64_t *v);
/* A number from 1 to @max of @unit ("pages"). */
int zr_arg_count(struct zr_parser *p, const char *what, const char *unit, uint64_t max,
		 uint64_t *v);
/* A word token (any text), @what for the message. */
int zr_arg_word(struct zr_parser *p, const char *what, struct zr_token **t);

/* A word the language gives a meaning: `{ "rw", ZD_PROT_READ | ZD_PROT_WRITE }`. */
struct zr_choice {
	const char *name;	/* NULL ends a table */
	int value;
};

/* One of @choices; sets *value. */
int zr_arg_choice(struct zr_parser *p, const char *what, const struct zr_choice *choices,
		  int *value);
/* The name of @value in @choices, or NULL. */
const char *zr_choice_name(const struct zr_choice *choices, int value);
/* The literal word @word. */
int zr_arg_literal(struct zr_parser *p, const char *word);
int zr_arg_process(struct zr_parser *p, int *proc);
int zr_arg_device(struct zr_parser *p, int *dev);
/* A reference set name; @define: the first use defines it (devalloc, gup, pin). */
int zr_arg_set(struct zr_parser *p, bool define, int *set);
/* REGION or REGION+SIZE of process @proc. */
int zr_arg_addr(struct zr_parser *p, int proc, struct zr_addr *a);
/* The same on a string (an option's value) at column @col. */
int zr_addr_str(struct zr_parser *p, int proc, char *text, int col, struct zr_addr *a);
/* PROCESS ADDR LEN, the start of most range commands. */
int zr_arg_range(struct zr_parser *p, int *proc, struct zr_addr *addr, uint64_t *len);
/* "text" | byte=0xAB len=SIZE | pattern=SEED len=SIZE */
int zr_arg_data(struct zr_parser *p, struct zr_data *d);

/*
 * Trailing options: `flag` words and `key=value` pairs, any order, each
 * at most once. A parse function declares its options in an array indexed
 * by an enum of its own, so each result is read by name (o[MMAP_PROT]).
 */
enum zr_opt_type {
	ZR_OPT_FLAG,		/* bare word */
	ZR_OPT_SIZE,
	ZR_OPT_UINT,
	ZR_OPT_CHOICE,
	ZR_OPT_WORD,		/* any non-empty value, checked by the caller */
	ZR_OPT_DURATION,	/* 100ms, 2s */
};

struct zr_opt {
	const char *key;
	enum zr_opt_type type;
	const struct zr_choice *choices;	/* ZR_OPT_CHOICE */
	unsigned int bit;	/* zr_opts_have: the command's bit for this key */
	bool absent;		/* not a key of this form of the command */
	/* results */
	bool seen;
	uint64_t u;		/* SIZE, UINT, DURATION (ns) */
	int choice;		/* CHOICE: the value of the word */
	struct zr_token *tok;	/* the token (valid until the line ends) */
	const char *value;	/* WORD, CHOICE: the text after '=' */
	int col;		/* column of the key */
};

int zr_arg_opts(struct zr_parser *p, struct zr_opt *opts, int nopts);
/* Column of an option's value. */
int zr_opt_vcol(const struct zr_opt *o);
/* The bits of the options seen. */
unsigned int zr_opts_have(const struct zr_opt *opts, int nopts);

/* ---- shared between verb families ---- */

/*
 * zr_file_str - FS:PATH in @text (at column @col): a tmpfs file, created
 * by `file` (@define) or resolved; an fsdax device's file is refused.
 */
int zr_file_str(struct zr_parser *p, char *text, int col, bool define, int *file);
/* The folio keys of expect set (@set) and expect page (verbs_expect.c). */
int zr_parse_folio_keys(struct zr_parser *p, struct zr_folio_expect *w, bool set);

#define ZR_NOPTS(a) ((int)(sizeof(a) / sizeof((a)[0])))

#endif /* ZONEDEV_TOOL_PARSE_H */
