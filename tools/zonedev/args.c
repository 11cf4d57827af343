// SPDX-License-Identifier: MIT
/*
 * args.c - the scenario language's values: names, sizes (4096, 4K, 2M,
 * 1G, 0x1000, 3p), counts, durations, words from a table of choices,
 * addresses (REGION+SIZE), data ("text", byte=, pattern=) and trailing
 * `key=value` options. Each parser consumes tokens of the current line
 * and reports "expected ..., found ..." at the offending column; none
 * knows a verb.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

/* ---- tokens ---- */

struct zr_token *zr_peek(struct zr_parser *p)
{
	return p->pos < p->ntok ? &p->tok[p->pos] : NULL;
}

struct zr_token *zr_next(struct zr_parser *p)
{
	return p->pos < p->ntok ? &p->tok[p->pos++] : NULL;
}

struct zr_token *zr_peek_ahead(struct zr_parser *p, int n)
{
	return p->pos + n < p->ntok ? &p->tok[p->pos + n] : NULL;
}

struct zr_token *zr_prev(struct zr_parser *p)
{
	return p->pos > 0 ? &p->tok[p->pos - 1] : NULL;
}

static int end_col(struct zr_parser *p)
{
	return p->indent + (int)strlen(p->src) + 1;
}

int zr_perr_here(struct zr_parser *p, const char *expected)
{
	struct zr_token *t = zr_peek(p);

	if (!t)
		return zr_perr(p, end_col(p), "expected %s, found the end of the line", expected);
	if (t->kind == ZR_TOK_STRING)
		return zr_perr(p, t->col, "expected %s, found a string", expected);
	return zr_perr(p, t->col, "expected %s, found '%s'", expected, t->text);
}

int zr_expect_end(struct zr_parser *p)
{
	if (zr_peek(p))
		return zr_perr_here(p, "the end of the line");
	return 0;
}

/* ---- scalar values ---- */

bool zr_is_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* Decimal digits or 0x hex digits, the whole string; no sign. */
static int parse_number(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;
	int base = 10, digits = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (;; s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -ERANGE;
		v = v * (uint64_t)base + (uint64_t)d;
		digits++;
	}
	if (!digits)
		return -EINVAL;
	*end = s;
	*out = v;
	return base;
}

int zr_parse_uint_str(const char *s, uint64_t *out)
{
	const char *end;
	int ret = parse_number(s, &end, out);

	if (ret < 0)
		return ret;
	return *end ? -EINVAL : 0;
}

int zr_parse_size_str(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v, mult;
	int base = parse_number(s, &end, &v);

	if (base < 0)
		return base;
	switch (*end) {
	case '\0': mult = 1; break;
	case 'K': mult = 1ull << 10; break;
	case 'M': mult = 1ull << 20; break;
	case 'G': mult = 1ull << 30; break;
	case 'p': mult = ZD_PAGE_SIZE; break;
	default: return -EINVAL;
	}
	if (*end && (base == 16 || end[1]))
		return -EINVAL;		/* 0x1000K is not a size */
	if (v && mult > UINT64_MAX / v)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

/*
 * 100ms, 2s, or a bare number of milliseconds. A duration too long for
 * 64 bits of nanoseconds saturates (about 584 years: forever).
 */
int zr_parse_duration_str(const char *s, uint64_t *ns)
{
	const char *end;
	uint64_t v, mult;
	int base = parse_number(s, &end, &v);

	if (base == -ERANGE) {
		/* more digits than 64 bits hold: saturate too, if the rest is a unit */
		end = s;
		while (*end >= '0' && *end <= '9')
			end++;
		v = UINT64_MAX;
		base = 10;
	}
	if (base != 10)
		return -EINVAL;
	if (!strcmp(end, "ms") || !*end)
		mult = 1000000ull;
	else if (!strcmp(end, "s"))
		mult = 1000000000ull;
	else if (!strcmp(end, "us"))
		mult = 1000ull;
	else
		return -EINVAL;
	*ns = v > UINT64_MAX / mult ? UINT64_MAX : v * mult;
	return 0;
}

/* ---- argument parsers ---- */

static int want_word(struct zr_parser *p, const char *what, struct zr_token **t)
{
	struct zr_token *tok = zr_peek(p);

	*t = tok;
	if (!tok || tok->kind != ZR_TOK_WORD)
		return zr_perr_here(p, what);
	return 0;
}

int zr_arg_word(struct zr_parser *p, const char *what, struct zr_token **t)
{
	int ret = want_word(p, what, t);

	if (!ret)
		p->pos++;
	return ret;
}

int zr_arg_name(struct zr_parser *p, const char *what, struct zr_token **t)
{
	int ret = want_word(p, what, t);

	if (ret)
		return ret;
	if (!zr_is_name((*t)->text))
		return zr_perr_here(p, what);
	p->pos++;
	return 0;
}

const char zr_size_forms[] = "(4096, 4K, 2M, 1G, 0x1000 or 3p)";

int zr_arg_size(struct zr_parser *p, const char *what, uint64_t *v)
{
	struct zr_token *t;
	char buf[96];
	int ret;

	snprintf(buf, sizeof(buf), "%s %s", what, zr_size_forms);
	ret = want_word(p, buf, &t);
	if (ret)
		return ret;
	ret = zr_parse_size_str(t->text, v);
	if (ret == -ERANGE)
		return zr_perr(p, t->col, "expected %s below 2^64, found '%s'", what, t->text);
	if (ret)
		return zr_perr_here(p, buf);
	p->pos++;
	return 0;
}

int zr_arg_uint(struct zr_parser *p, const char *what, uint64_t *v)
{
	struct zr_token *t;
	int ret = want_word(p, what, &t);

	if (ret)
		return ret;
	if (zr_parse_uint_str(t->text, v))
		return zr_perr_here(p, what);
	p->pos++;
	return 0;
}

int zr_arg_count(struct zr_parser *p, const char *what, const char *unit, uint64_t max,
		 uint64_t *v)
{
	int ret = zr_arg_uint(p, what, v);

	if (!ret && (!*v || *v > max))
		ret = zr_perr(p, zr_prev(p)->col, "expected 1 to %llu %s, found '%s'",
			      (unsigned long long)max, unit, zr_prev(p)->text);
	return ret;
}

/* "a, b or c" for messages. */
static void choice_list(char *buf, size_t len, const struct zr_choice *choices)
{
	size_t o = 0;
	int n = 0;

	while (choices[n].name)
		n++;
	buf[0] = '\0';
	for (int i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s",
				      i == 0 ? "" : (i == n - 1 ? " or " : ", "), choices[i].name);
}

static const struct zr_choice *find_choice(const struct zr_choice *choices, const char *s)
{
	for (; choices->name; choices++)
		if (!strcmp(choices->name, s))
			return choices;
	return NULL;
}

const char *zr_choice_name(const struct zr_choice *choices, int value)
{
	for (; choices->name; choices++)
		if (choices->value == value)
			return choices->name;
	return NULL;
}

int zr_arg_choice(struct zr_parser *p, const char *what, const struct zr_choice *choices,
		  int *value)
{
	char buf[256], list[200];
	struct zr_token *t = zr_peek(p);
	const struct zr_choice *c = t && t->kind == ZR_TOK_WORD ? find_choice(choices, t->text) :
				    NULL;

	if (!c) {
		choice_list(list, sizeof(list), choices);
		snprintf(buf, sizeof(buf), "%s (%s)", what, list);
		return zr_perr_here(p, buf);
	}
	*value = c->value;
	p->pos++;
	return 0;
}

int zr_arg_literal(struct zr_parser *p, const char *word)
{
	struct zr_token *t = zr_peek(p);
	char buf[64];

	snprintf(buf, sizeof(buf), "'%s'", word);
	if (!t || t->kind != ZR_TOK_WORD || strcmp(t->text, word))
		return zr_perr_here(p, buf);
	p->pos++;
	return 0;
}

int zr_arg_process(struct zr_parser *p, int *proc)
{
	struct zr_token *t;
	int ret = zr_arg_name(p, "a process name", &t);

	return ret ? ret : zr_resolve(p, ZR_PROCESS, -1, t, proc);
}

int zr_arg_device(struct zr_parser *p, int *dev)
{
	struct zr_token *t;
	int ret = zr_arg_name(p, "a device name", &t);

	return ret ? ret : zr_resolve(p, ZR_DEVICE, -1, t, dev);
}

int zr_arg_set(struct zr_parser *p, bool define, int *set)
{
	struct zr_token *t;
	int ret = zr_arg_name(p, "a reference set name", &t);

	if (ret)
		return ret;
	return define ? zr_define_or_get(p, ZR_SET, -1, t, set) : zr_resolve(p, ZR_SET, -1, t, set);
}

int zr_addr_str(struct zr_parser *p, int proc, char *text, int col, struct zr_addr *a)
{
	struct zr_token name = { .kind = ZR_TOK_WORD, .text = text, .col = col };
	char *plus = strchr(text, '+');
	int ret;

	if (plus)
		*plus = '\0';
	if (!zr_is_name(text)) {
		if (plus)
			*plus = '+';
		return zr_perr(p, col, "expected an address (REGION or REGION+SIZE), found '%s'", text);
	}
	ret = zr_resolve(p, ZR_REGION, proc, &name, &a->region);
	if (plus)
		*plus = '+';
	if (ret)
		return ret;
	a->off = 0;
	if (plus && zr_parse_size_str(plus + 1, &a->off))
		return zr_perr(p, col + (int)(plus - text) + 1,
			       "expected an offset %s after '+', found '%s'", zr_size_forms, plus + 1);
	return 0;
}

int zr_arg_addr(struct zr_parser *p, int proc, struct zr_addr *a)
{
	struct zr_token *t;
	int ret = zr_arg_word(p, "an address (REGION or REGION+SIZE)", &t);

	return ret ? ret : zr_addr_str(p, proc, t->text, t->col, a);
}

int zr_arg_range(struct zr_parser *p, int *proc, struct zr_addr *addr, uint64_t *len)
{
	int ret = zr_arg_process(p, proc);

	if (!ret)
		ret = zr_arg_addr(p, *proc, addr);
	if (!ret)
		ret = zr_arg_size(p, "a length", len);
	return ret;
}

/* Split "key=value" in place; returns the value or NULL. */
static char *kv_split(struct zr_token *t, char **key)
{
	char *eq = t->kind == ZR_TOK_WORD ? strchr(t->text, '=') : NULL;

	*key = t->text;
	return eq ? eq + 1 : NULL;
}

static bool key_is(const struct zr_token *t, const char *key)
{
	size_t n = strlen(key);

	return t && t->kind == ZR_TOK_WORD && !strncmp(t->text, key, n) && t->text[n] == '=';
}

int zr_arg_data(struct zr_parser *p, struct zr_data *d)
{
	static const char what[] = "data (\"text\", byte=0xAB len=SIZE or pattern=SEED len=SIZE)";
	struct zr_token *t = zr_peek(p);
	bool have_len = false, have_val = false;
	uint64_t v;

	memset(d, 0, sizeof(*d));
	if (t && t->kind == ZR_TOK_STRING) {
		d->kind = ZR_DATA_TEXT;
		d->text = zr_pstrdup(p, t->text, t->len);
		d->len = t->len;
		p->pos++;
		return d->text ? 0 : -ENOMEM;
	}
	/* The two words of byte=/pattern= and len= may come in either order. */
	for (int i = 0; i < 2; i++) {
		char *key, *val;

		t = zr_peek(p);
		if (!t || t->kind != ZR_TOK_WORD || !(val = kv_split(t, &key)))
			return zr_perr_here(p, have_val ? "len=SIZE" :
					    have_len ? "byte=0xAB or pattern=SEED" : what);
		if (key_is(t, "len") && !have_len) {
			if (zr_parse_size_str(val, &d->len))
				return zr_perr(p, t->col + 4, "expected a length %s, found '%s'",
					       zr_size_forms, val);
			have_len = true;
		} else if ((key_is(t, "byte") || key_is(t, "pattern")) && !have_val) {
			bool byte = key_is(t, "byte");

			if (zr_parse_uint_str(val, &v) || v > (byte ? 0xffu : 0xffffffffu))
				return zr_perr(p, t->col + (int)(val - key),
					       "expected %s, found '%s'",
					       byte ? "a byte value (0..0xff)" :
					       "a 32-bit seed", val);
			d->kind = byte ? ZR_DATA_BYTE : ZR_DATA_PATTERN;
			if (byte)
				d->byte = (uint8_t)v;
			else
				d->seed = (uint32_t)v;
			have_val = true;
		} else {
			return zr_perr_here(p, have_val ? "len=SIZE" :
					    have_len ? "byte=0xAB or pattern=SEED" : what);
		}
		p->pos++;
	}
	return 0;
}

/* ---- trailing options ---- */

int zr_opt_vcol(const struct zr_opt *o)
{
	return o->col + (int)strlen(o->key) + 1;
}

unsigned int zr_opts_have(const struct zr_opt *opts, int nopts)
{
	unsigned int have = 0;

	for (int i = 0; i < nopts; i++)
		if (opts[i].seen)
			have |= opts[i].bit;
	return have;
}

/* "a=, b or c=": the keys of this form. */
static void opt_list(char *buf, size_t len, const struct zr_opt *opts, int nopts)
{
	int n = 0, k = 0;
	size_t o = 0;

	for (int i = 0; i < nopts; i++)
		n += !opts[i].absent;
	buf[0] = '\0';
	for (int i = 0; i < nopts && o < len; i++) {
		if (opts[i].absent)
			continue;
		o += (size_t)snprintf(buf + o, len - o, "%s%s%s",
				      k == 0 ? "" : (k == n - 1 ? " or " : ", "),
				      opts[i].key, opts[i].type == ZR_OPT_FLAG ? "" : "=");
		k++;
	}
}

static int opt_value(struct zr_parser *p, struct zr_opt *o, struct zr_token *t, char *val)
{
	int vcol = t->col + (int)(val - t->text);
	const struct zr_choice *c;
	char list[200];
	int ret;

	switch (o->type) {
	case ZR_OPT_FLAG:
		return 0;
	case ZR_OPT_SIZE:
		ret = zr_parse_size_str(val, &o->u);
		if (ret)
			return zr_perr(p, vcol, "expected a size %s for %s=, found '%s'",
				       zr_size_forms, o->key, val);
		return 0;
	case ZR_OPT_UINT:
		if (zr_parse_uint_str(val, &o->u))
			return zr_perr(p, vcol, "expected a number for %s=, found '%s'", o->key, val);
		return 0;
	case ZR_OPT_DURATION:
		if (zr_parse_duration_str(val, &o->u))
			return zr_perr(p, vcol, "expected a duration (100ms, 2s) for %s=, found '%s'",
				       o->key, val);
		return 0;
	case ZR_OPT_CHOICE:
		c = find_choice(o->choices, val);
		if (!c) {
			choice_list(list, sizeof(list), o->choices);
			return zr_perr(p, vcol, "expected %s=%s, found '%s'", o->key, list, val);
		}
		o->choice = c->value;
		o->value = val;
		return 0;
	case ZR_OPT_WORD:
		if (!*val)
			return zr_perr(p, vcol, "expected a value after %s=", o->key);
		o->value = val;
		return 0;
	}
	return -EINVAL;
}

int zr_arg_opts(struct zr_parser *p, struct zr_opt *opts, int nopts)
{
	struct zr_token *t;

	while ((t = zr_peek(p))) {
		char list[300], *key, *val = NULL;
		struct zr_opt *o = NULL;
		int ret;

		if (t->kind == ZR_TOK_WORD) {
			val = kv_split(t, &key);
			for (int i = 0; i < nopts && !o; i++) {
				if (opts[i].absent)
					continue;
				if (opts[i].type == ZR_OPT_FLAG ? (!val && !strcmp(t->text, opts[i].key)) :
				    key_is(t, opts[i].key))
					o = &opts[i];
			}
		}
		if (!o) {
			opt_list(list, sizeof(list), opts, nopts);
			return zr_perr_here(p, list[0] ? list : "the end of the line");
		}
		if (o->seen)
			return zr_perr(p, t->col, "expected each key once, found a second '%s'",
				       o->key);
		ret = opt_value(p, o, t, val);
		if (ret)
			return ret;
		o->seen = true;
		o->tok = t;
		o->col = t->col;
		p->pos++;
	}
	return 0;
}
