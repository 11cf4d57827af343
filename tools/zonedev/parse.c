// SPDX-License-Identifier: MIT
/*
 * parse.c - whole-file parse of a scenario into a program: lines into
 * commands through the verb table (a verb's own grammar is its family's
 * parse function), thread blocks, name definition and resolution, and
 * the checks the verb flags ask for across lines (the first command,
 * expect right after a command, a quiescent machine). Nothing runs until
 * every line parsed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

/* ---- program-owned memory ---- */

struct zr_alloc {
	struct zr_alloc *next;
	max_align_t data[];
};

void *zr_palloc(struct zr_parser *p, size_t size)
{
	struct zr_alloc *a = calloc(1, sizeof(*a) + size);

	if (!a)
		return NULL;
	a->next = p->prog->allocs;
	p->prog->allocs = a;
	return a->data;
}

char *zr_pstrdup(struct zr_parser *p, const char *s, size_t len)
{
	char *d = zr_palloc(p, len + 1);

	if (d)
		memcpy(d, s, len);
	return d;
}

void zr_program_free(struct zr_program *prog)
{
	if (!prog)
		return;
	/* Thread bodies are program-owned; their command arrays are not. */
	for (int i = 0; i < prog->names[ZR_THREAD].n; i++)
		if (prog->bodies && prog->bodies[i])
			free(prog->bodies[i]->v);
	while (prog->allocs) {
		struct zr_alloc *a = prog->allocs;

		prog->allocs = a->next;
		free(a);
	}
	for (int k = 0; k < ZR_NR_KINDS; k++) {
		for (int i = 0; i < prog->names[k].n; i++)
			free(prog->names[k].v[i].name);
		free(prog->names[k].v);
	}
	free(prog->bodies);
	free(prog->devices);
	free(prog->main.v);
	free(prog);
}

/* ---- errors ---- */

int zr_perr(struct zr_parser *p, int col, const char *fmt, ...)
{
	va_list ap;

	p->nerrors++;
	if (p->nerrors > ZR_MAX_ERRORS)
		return -EINVAL;
	fprintf(p->err, "%s:%d:%d: ", p->prog->file, p->line, col);
	va_start(ap, fmt);
	vfprintf(p->err, fmt, ap);
	va_end(ap);
	fputc('\n', p->err);
	return -EINVAL;
}

/* ---- names ---- */

int zr_lookup(const struct zr_program *prog, enum zr_kind kind, int owner, const char *name)
{
	const struct zr_names *ns = &prog->names[kind];

	for (int i = 0; i < ns->n; i++)
		if (ns->v[i].owner == owner && !strcmp(ns->v[i].name, name))
			return i;
	return -1;
}

static int names_add(struct zr_parser *p, enum zr_kind kind, int owner, const char *name)
{
	struct zr_names *ns = &p->prog->names[kind];
	struct zr_name *n;

	if (ns->n == ns->cap) {
		int cap = ns->cap ? ns->cap * 2 : 8;
		struct zr_name *v = realloc(ns->v, (size_t)cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ns->v = v;
		ns->cap = cap;
	}
	n = &ns->v[ns->n];
	n->name = strdup(name);
	if (!n->name)
		return -ENOMEM;
	n->owner = owner;
	n->line = p->line;
	return ns->n++;
}

int zr_define(struct zr_parser *p, enum zr_kind kind, int owner, const struct zr_token *t,
	      int *idx)
{
	int i = zr_lookup(p->prog, kind, owner, t->text);

	if (i >= 0)
		return zr_perr(p, t->col, "expected a new %s name, found '%s' (defined at line %d)",
			       zr_kinds[kind].name, t->text, p->prog->names[kind].v[i].line);
	i = names_add(p, kind, owner, t->text);
	if (i < 0)
		return i;
	*idx = i;
	return 0;
}

int zr_define_or_get(struct zr_parser *p, enum zr_kind kind, int owner,
		     const struct zr_token *t, int *idx)
{
	int i = zr_lookup(p->prog, kind, owner, t->text);

	if (i < 0)
		return zr_define(p, kind, owner, t, idx);
	*idx = i;
	return 0;
}

int zr_resolve(struct zr_parser *p, enum zr_kind kind, int owner, const struct zr_token *t,
	       int *idx)
{
	int i = zr_lookup(p->prog, kind, owner, t->text);

	if (i >= 0) {
		*idx = i;
		return 0;
	}
	if (kind == ZR_REGION)
		return zr_perr(p, t->col, "expected a region of process '%s' (defined by %s), found '%s'",
			       p->prog->names[ZR_PROCESS].v[owner].name, zr_kinds[kind].definers,
			       t->text);
	return zr_perr(p, t->col, "expected a %s name defined by %s, found '%s'",
		       zr_kinds[kind].name, zr_kinds[kind].definers, t->text);
}

int zr_names_inherit(struct zr_parser *p, enum zr_kind kind, int from, int to)
{
	struct zr_names *ns = &p->prog->names[kind];
	int n = ns->n;

	for (int i = 0; i < n; i++) {
		if (ns->v[i].owner != from || zr_lookup(p->prog, kind, to, ns->v[i].name) >= 0)
			continue;
		/* names_add may move ns->v: copy the name first. */
		char *name = strdup(ns->v[i].name);
		int ret;

		if (!name)
			return -ENOMEM;
		ret = names_add(p, kind, to, name);
		free(name);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* ---- thread blocks ---- */

int zr_open_thread(struct zr_parser *p, const struct zr_token *t, struct zr_cmd *cmd)
{
	struct zr_program *prog = p->prog;
	struct zr_block *body, **bodies;
	bool *running;
	int *started, idx = prog->names[ZR_THREAD].n, ret;

	/* Grow the per-thread arrays first: names[ZR_THREAD].n never exceeds them. */
	bodies = realloc(prog->bodies, (size_t)(idx + 1) * sizeof(*bodies));
	if (!bodies)
		return -ENOMEM;
	prog->bodies = bodies;
	running = realloc(p->running, (size_t)(idx + 1) * sizeof(*running));
	if (!running)
		return -ENOMEM;
	p->running = running;
	started = realloc(p->started_line, (size_t)(idx + 1) * sizeof(*started));
	if (!started)
		return -ENOMEM;
	p->started_line = started;
	body = zr_palloc(p, sizeof(*body));
	if (!body)
		return -ENOMEM;
	bodies[idx] = body;
	running[idx] = false;
	started[idx] = 0;
	ret = zr_define(p, ZR_THREAD, -1, t, &idx);
	if (ret)
		return ret;
	cmd->u.thread.thread = idx;
	cmd->u.thread.body = body;
	p->block = body;
	p->thread = idx;
	p->thread_line = p->line;
	return 0;
}

static int close_thread(struct zr_parser *p, const struct zr_token *t)
{
	if (p->thread < 0)
		return zr_perr(p, t->col, "expected a command, found '}' outside a thread block");
	if (p->ntok > 1) {
		p->pos = 1;
		return zr_perr_here(p, "the end of the line after '}'");
	}
	p->running[p->thread] = true;
	p->started_line[p->thread] = p->line;
	p->thread = -1;
	p->block = &p->prog->main;
	return 0;
}

int zr_join_thread(struct zr_parser *p, const struct zr_token *t, int *idx)
{
	int ret = zr_resolve(p, ZR_THREAD, -1, t, idx);

	if (ret)
		return ret;
	if (!p->running[*idx])
		return zr_perr(p, t->col, "expected a running thread, found '%s' (%s)", t->text,
			       p->started_line[*idx] ? "already joined" : "not started yet");
	p->running[*idx] = false;
	return 0;
}

void zr_join_all(struct zr_parser *p)
{
	for (int i = 0; i < p->prog->names[ZR_THREAD].n; i++)
		p->running[i] = false;
}

/* ---- lines ---- */

static int block_add(struct zr_block *b, struct zr_cmd *cmd)
{
	if (b->n == b->cap) {
		int cap = b->cap ? b->cap * 2 : 16;
		struct zr_cmd **v = realloc(b->v, (size_t)cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = cmd;
	return 0;
}

/* The verb starting the line: one word, or two ("expect set", "expect moved=N"). */
static const struct zr_verb *find_verb(struct zr_parser *p)
{
	struct zr_token *t = &p->tok[0], *t1;
	const struct zr_verb *v, *prefix;
	const char *hint;
	char name[64];
	bool has_eq;
	size_t klen;

	if (t->kind != ZR_TOK_WORD) {
		zr_perr_here(p, "a command");
		return NULL;
	}
	v = zr_verb_lookup(t->text);
	if (!v) {
		hint = zr_verb_suggest(t->text);
		if (hint)
			zr_perr(p, t->col, "expected a command, found '%s' (did you mean '%s'?)",
				t->text, hint);
		else
			zr_perr_here(p, "a command");
		return NULL;
	}
	p->pos = 1;
	if (!(v->flags & ZR_VERB_PREFIX))
		return v;
	/* PREFIX WORD, or PREFIX KEY=VALUE for a ZR_VERB_KEYWORD verb */
	prefix = v;
	t1 = zr_peek(p);
	if (!t1 || t1->kind != ZR_TOK_WORD) {
		zr_perr_here(p, prefix->usage);
		return NULL;
	}
	klen = strcspn(t1->text, "=");
	has_eq = t1->text[klen] == '=';
	v = NULL;
	if (strlen(prefix->name) + 1 + klen < sizeof(name)) {
		snprintf(name, sizeof(name), "%s %.*s", prefix->name, (int)klen, t1->text);
		v = zr_verb_lookup(name);
	}
	if (!v || has_eq != !!(v->flags & ZR_VERB_KEYWORD)) {
		zr_perr_here(p, prefix->usage);
		return NULL;
	}
	if (!has_eq)
		p->pos = 2;	/* a KEY=VALUE word is the verb's to read */
	return v;
}

static const char *running_thread(struct zr_parser *p, int *line)
{
	for (int i = 0; i < p->prog->names[ZR_THREAD].n; i++) {
		if (p->running[i]) {
			*line = p->started_line[i];
			return p->prog->names[ZR_THREAD].v[i].name;
		}
	}
	return NULL;
}

static int parse_command(struct zr_parser *p)
{
	struct zr_block *block = p->block;
	const struct zr_verb *verb;
	struct zr_cmd *cmd, *prev;
	const char *tname;
	int ret, tline;

	if (p->tok[0].kind == ZR_TOK_RBRACE)
		return close_thread(p, &p->tok[0]);
	verb = find_verb(p);
	if (!verb)
		return -EINVAL;
	if (!p->have_first) {
		/* Whatever comes first, check the rest as if a system existed. */
		p->have_first = true;
		p->first_line = p->line;
		if (!(verb->flags & ZR_VERB_FIRST)) {
			p->said_first = true;
			return zr_perr(p, p->tok[0].col, "expected '%s' as the first command, found '%s'",
				       zr_verb_first()->usage, verb->name);
		}
	} else if (verb->flags & ZR_VERB_FIRST) {
		if (p->said_first)
			return zr_perr(p, p->tok[0].col,
				       "expected '%s' as the first command, found it at line %d",
				       verb->name, p->line);
		return zr_perr(p, p->tok[0].col,
			       "expected one '%s' per file, found a second one (the first is at line %d)",
			       verb->name, p->first_line);
	}
	if (!verb->parse)
		return zr_perr(p, p->tok[0].col, "'%s' needs the %s subsystem, which this build does not have yet",
			       verb->name, verb->subsys);
	if ((verb->flags & ZR_VERB_MAIN_ONLY) && p->thread >= 0)
		return zr_perr(p, p->tok[0].col,
			       "expected a command allowed in a thread block, found '%s' (inside thread '%s' from line %d)",
			       verb->name, p->prog->names[ZR_THREAD].v[p->thread].name,
			       p->thread_line);
	if (verb->flags & ZR_VERB_QUIESCENT) {
		if (p->thread >= 0)
			return zr_perr(p, p->tok[0].col,
				       "expected a quiescent system for '%s', found it inside thread '%s'",
				       verb->name, p->prog->names[ZR_THREAD].v[p->thread].name);
		tname = running_thread(p, &tline);
		if (tname)
			return zr_perr(p, p->tok[0].col,
				       "expected a quiescent system for '%s', found thread '%s' (started at line %d) still running: join it first",
				       verb->name, tname, tline);
	}

	cmd = zr_palloc(p, sizeof(*cmd));
	if (!cmd)
		return -ENOMEM;
	cmd->verb = verb;
	cmd->line = p->line;
	cmd->col = p->tok[0].col;
	cmd->src = zr_pstrdup(p, p->src, strlen(p->src));
	if (!cmd->src)
		return -ENOMEM;
	p->cmd = cmd;
	ret = verb->parse(p, cmd);
	p->cmd = NULL;
	if (ret)
		return ret;
	ret = zr_expect_end(p);
	if (ret)
		return ret;
	if (verb->flags & ZR_VERB_RESULT) {
		prev = block->n ? block->v[block->n - 1] : NULL;
		if (!prev || (prev->verb->flags & ZR_VERB_EXPECTATION))
			return zr_perr(p, cmd->col,
				       "expected '%s' right after the command it checks, found it after %s",
				       verb->name, prev ? "an expectation" : "no command");
		prev->checked = true;
	}
	return block_add(block, cmd);
}

/* Strip blanks at both ends (and a CR) into a NUL-terminated copy. */
static char *trimmed(const char *s, size_t len)
{
	while (len && (s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return strndup(s, len);
}

int zr_parse(const char *file, const char *text, size_t len, FILE *err,
	     struct zr_program **out)
{
	struct zr_parser p = { .err = err, .thread = -1 };
	size_t off = 0;
	int ret = 0;

	p.prog = calloc(1, sizeof(*p.prog));
	if (!p.prog)
		return -ENOMEM;
	p.prog->file = file;
	p.block = &p.prog->main;

	while (off < len && p.nerrors <= ZR_MAX_ERRORS) {
		const char *start = text + off;
		const char *nl = memchr(start, '\n', len - off);
		size_t llen = nl ? (size_t)(nl - start) : len - off;
		char *line = trimmed(start, llen);
		const char *lead;

		off += llen + (nl ? 1 : 0);
		p.line++;
		if (!line) {
			ret = -ENOMEM;
			break;
		}
		if (memchr(start, '\0', llen)) {
			zr_perr(&p, 1, "expected text, found a NUL byte");
			free(line);
			continue;
		}
		lead = line + strspn(line, " \t");
		p.src = lead;
		p.indent = (int)(lead - line);
		ret = zr_lex_line(&p, line, strlen(line), &p.tok, &p.ntok);
		if (ret == -ENOMEM) {
			free(line);
			break;
		}
		if (!ret && p.ntok) {
			p.pos = 0;
			/* Columns are counted in the untrimmed line; src for -v is trimmed. */
			ret = parse_command(&p);
		}
		if (!ret || ret == -EINVAL)
			ret = 0;
		zr_tokens_free(p.tok, p.ntok);
		p.tok = NULL;
		p.ntok = 0;
		free(line);
		if (ret)
			break;
	}
	if (!ret && p.thread >= 0 && p.nerrors <= ZR_MAX_ERRORS) {
		p.line = p.thread_line;
		zr_perr(&p, 1, "expected '}' closing thread '%s', found the end of the file",
			p.prog->names[ZR_THREAD].v[p.thread].name);
	}
	if (!ret && !p.have_first && !p.nerrors) {
		p.line = p.line ? p.line : 1;
		zr_perr(&p, 1, "expected '%s' as the first command, found the end of the file",
			zr_verb_first()->usage);
	}
	if (p.nerrors > ZR_MAX_ERRORS)
		fprintf(err, "%s: too many errors, giving up\n", file);
	free(p.running);
	free(p.started_line);
	if (!ret && p.nerrors)
		ret = -EINVAL;
	if (ret) {
		zr_program_free(p.prog);
		return ret;
	}
	*out = p.prog;
	return 0;
}
