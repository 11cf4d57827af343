// SPDX-License-Identifier: MIT
/*
 * args.c - the scenario language's values: names, sizes (4096, 4K, 2M,
 * 1G, 0x1000, 3p), counts, durations, addresses (REGION+SIZE), data
 * ("text", byte=, pattern=), FS:PATH file names, errno names and trailing
 * `key=value` options. Each parser consumes tokens of the current line
 * and reports "expected ..., found ..." at the offending column.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

/* ---- tokens ---- */

struct zr_token *zr_peek(struct zr_parser *p)
{
	return p->pos < p->ntok ? &p->tok[p->pos] : NULL;
}

struct zr_token *zr_next(struct zr_parser *p)
{
	return p->pos < p->ntok ? &p->tok[p->pos++] : NULL;
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

/*
 * Every Linux errno name (asm-generic/errno-base.h and errno.h), so any
 * error the library returns can be expected by name. Canonical names come
 * first; the aliases after them are accepted and print as their canonical
 * name (EWOULDBLOCK as EAGAIN).
 */
static const struct {
	const char *name;
	int err;
} errnos[] = {
	{ "EPERM", EPERM }, { "ENOENT", ENOENT }, { "ESRCH", ESRCH }, { "EINTR", EINTR },
	{ "EIO", EIO }, { "ENXIO", ENXIO }, { "E2BIG", E2BIG }, { "ENOEXEC", ENOEXEC },
	{ "EBADF", EBADF }, { "ECHILD", ECHILD }, { "EAGAIN", EAGAIN }, { "ENOMEM", ENOMEM },
	{ "EACCES", EACCES }, { "EFAULT", EFAULT }, { "ENOTBLK", ENOTBLK }, { "EBUSY", EBUSY },
	{ "EEXIST", EEXIST }, { "EXDEV", EXDEV }, { "ENODEV", ENODEV }, { "ENOTDIR", ENOTDIR },
	{ "EISDIR", EISDIR }, { "EINVAL", EINVAL }, { "ENFILE", ENFILE }, { "EMFILE", EMFILE },
	{ "ENOTTY", ENOTTY }, { "ETXTBSY", ETXTBSY }, { "EFBIG", EFBIG }, { "ENOSPC", ENOSPC },
	{ "ESPIPE", ESPIPE }, { "EROFS", EROFS }, { "EMLINK", EMLINK }, { "EPIPE", EPIPE },
	{ "EDOM", EDOM }, { "ERANGE", ERANGE }, { "EDEADLK", EDEADLK },
	{ "ENAMETOOLONG", ENAMETOOLONG }, { "ENOLCK", ENOLCK }, { "ENOSYS", ENOSYS },
	{ "ENOTEMPTY", ENOTEMPTY }, { "ELOOP", ELOOP }, { "ENOMSG", ENOMSG },
	{ "EIDRM", EIDRM }, { "ECHRNG", ECHRNG }, { "EL2NSYNC", EL2NSYNC },
	{ "EL3HLT", EL3HLT }, { "EL3RST", EL3RST }, { "ELNRNG", ELNRNG },
	{ "EUNATCH", EUNATCH }, { "ENOCSI", ENOCSI }, { "EL2HLT", EL2HLT }, { "EBADE", EBADE },
	{ "EBADR", EBADR }, { "EXFULL", EXFULL }, { "ENOANO", ENOANO }, { "EBADRQC", EBADRQC },
	{ "EBADSLT", EBADSLT }, { "EBFONT", EBFONT }, { "ENOSTR", ENOSTR },
	{ "ENODATA", ENODATA }, { "ETIME", ETIME }, { "ENOSR", ENOSR }, { "ENONET", ENONET },
	{ "ENOPKG", ENOPKG }, { "EREMOTE", EREMOTE }, { "ENOLINK", ENOLINK }, { "EADV", EADV },
	{ "ESRMNT", ESRMNT }, { "ECOMM", ECOMM }, { "EPROTO", EPROTO },
	{ "EMULTIHOP", EMULTIHOP }, { "EDOTDOT", EDOTDOT }, { "EBADMSG", EBADMSG },
	{ "EOVERFLOW", EOVERFLOW }, { "ENOTUNIQ", ENOTUNIQ }, { "EBADFD", EBADFD },
	{ "EREMCHG", EREMCHG }, { "ELIBACC", ELIBACC }, { "ELIBBAD", ELIBBAD },
	{ "ELIBSCN", ELIBSCN }, { "ELIBMAX", ELIBMAX }, { "ELIBEXEC", ELIBEXEC },
	{ "EILSEQ", EILSEQ }, { "ERESTART", ERESTART }, { "ESTRPIPE", ESTRPIPE },
	{ "EUSERS", EUSERS }, { "ENOTSOCK", ENOTSOCK }, { "EDESTADDRREQ", EDESTADDRREQ },
	{ "EMSGSIZE", EMSGSIZE }, { "EPROTOTYPE", EPROTOTYPE }, { "ENOPROTOOPT", ENOPROTOOPT },
	{ "EPROTONOSUPPORT", EPROTONOSUPPORT }, { "ESOCKTNOSUPPORT", ESOCKTNOSUPPORT },
	{ "EOPNOTSUPP", EOPNOTSUPP }, { "EPFNOSUPPORT", EPFNOSUPPORT },
	{ "EAFNOSUPPORT", EAFNOSUPPORT }, { "EADDRINUSE", EADDRINUSE },
	{ "EADDRNOTAVAIL", EADDRNOTAVAIL }, { "ENETDOWN", ENETDOWN },
	{ "ENETUNREACH", ENETUNREACH }, { "ENETRESET", ENETRESET },
	{ "ECONNABORTED", ECONNABORTED }, { "ECONNRESET", ECONNRESET }, { "ENOBUFS", ENOBUFS },
	{ "EISCONN", EISCONN }, { "ENOTCONN", ENOTCONN }, { "ESHUTDOWN", ESHUTDOWN },
	{ "ETOOMANYREFS", ETOOMANYREFS }, { "ETIMEDOUT", ETIMEDOUT },
	{ "ECONNREFUSED", ECONNREFUSED }, { "EHOSTDOWN", EHOSTDOWN },
	{ "EHOSTUNREACH", EHOSTUNREACH }, { "EALREADY", EALREADY },
	{ "EINPROGRESS", EINPROGRESS }, { "ESTALE", ESTALE }, { "EUCLEAN", EUCLEAN },
	{ "ENOTNAM", ENOTNAM }, { "ENAVAIL", ENAVAIL }, { "EISNAM", EISNAM },
	{ "EREMOTEIO", EREMOTEIO }, { "EDQUOT", EDQUOT }, { "ENOMEDIUM", ENOMEDIUM },
	{ "EMEDIUMTYPE", EMEDIUMTYPE }, { "ECANCELED", ECANCELED }, { "ENOKEY", ENOKEY },
	{ "EKEYEXPIRED", EKEYEXPIRED }, { "EKEYREVOKED", EKEYREVOKED },
	{ "EKEYREJECTED", EKEYREJECTED }, { "EOWNERDEAD", EOWNERDEAD },
	{ "ENOTRECOVERABLE", ENOTRECOVERABLE }, { "ERFKILL", ERFKILL },
	{ "EHWPOISON", EHWPOISON },
	/* aliases */
	{ "EWOULDBLOCK", EWOULDBLOCK }, { "EDEADLOCK", EDEADLOCK }, { "ENOTSUP", ENOTSUP },
};

int zr_errno_from_name(const char *s)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (!strcmp(errnos[i].name, s))
			return errnos[i].err;
	return 0;
}

const char *zr_errno_name(int err)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].err == err)
			return errnos[i].name;
	return NULL;
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

static const char size_forms[] = "(4096, 4K, 2M, 1G, 0x1000 or 3p)";

int zr_arg_size(struct zr_parser *p, const char *what, uint64_t *v)
{
	struct zr_token *t;
	char buf[96];
	int ret;

	snprintf(buf, sizeof(buf), "%s %s", what, size_forms);
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

/* "a, b or c" for messages. */
static void choice_list(char *buf, size_t len, const char *const *choices, const char *suffix)
{
	size_t o = 0;
	int n = 0;

	while (choices[n])
		n++;
	buf[0] = '\0';
	for (int i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s%s",
				      i == 0 ? "" : (i == n - 1 ? " or " : ", "),
				      choices[i], suffix);
}

static int find_choice(const char *const *choices, const char *s)
{
	for (int i = 0; choices[i]; i++)
		if (!strcmp(choices[i], s))
			return i;
	return -1;
}

int zr_arg_choice(struct zr_parser *p, const char *what, const char *const *choices, int *idx)
{
	char buf[256], list[200];
	struct zr_token *t = zr_peek(p);

	choice_list(list, sizeof(list), choices, "");
	snprintf(buf, sizeof(buf), "%s (%s)", what, list);
	if (!t || t->kind != ZR_TOK_WORD || (*idx = find_choice(choices, t->text)) < 0)
		return zr_perr_here(p, buf);
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
			       "expected an offset %s after '+', found '%s'", size_forms, plus + 1);
	return 0;
}

int zr_arg_addr(struct zr_parser *p, int proc, struct zr_addr *a)
{
	struct zr_token *t;
	int ret = want_word(p, "an address (REGION or REGION+SIZE)", &t);

	if (ret)
		return ret;
	ret = zr_addr_str(p, proc, t->text, t->col, a);
	if (ret)
		return ret;
	p->pos++;
	return 0;
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
					       size_forms, val);
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

int zr_file_str(struct zr_parser *p, char *text, int col, bool define, int *file)
{
	struct zr_token name = { .kind = ZR_TOK_WORD, .text = text, .col = col };
	char *colon = strchr(text, ':');
	int dev;

	if (!colon || colon[1] == '\0' || strchr(colon + 1, ':'))
		return zr_perr(p, col, "expected a file FS:PATH, found '%s'", text);
	*colon = '\0';
	if (strcmp(text, "tmpfs")) {
		dev = zr_is_name(text) ? zr_lookup(p->prog, ZR_DEVICE, -1, text) : -1;
		if (dev < 0 || p->prog->devices[dev].type != ZR_DEV_FSDAX) {
			zr_perr(p, col, "expected tmpfs or an fsdax device before ':', found '%s'",
				text);
			*colon = ':';
			return -EINVAL;
		}
	}
	*colon = ':';
	if (define)
		return zr_define_or_get(p, ZR_FILE, -1, &name, file);
	return zr_resolve(p, ZR_FILE, -1, &name, file);
}

int zr_arg_file(struct zr_parser *p, bool define, int *file)
{
	struct zr_token *t;
	int ret = want_word(p, "a file FS:PATH (FS an fsdax device or tmpfs)", &t);

	if (ret)
		return ret;
	ret = zr_file_str(p, t->text, t->col, define, file);
	if (ret)
		return ret;
	p->pos++;
	return 0;
}

/* ---- trailing options ---- */

static void opt_list(char *buf, size_t len, const struct zr_opt *opts, int n)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s%s",
				      i == 0 ? "" : (i == n - 1 ? " or " : ", "),
				      opts[i].key, opts[i].type == ZR_OPT_FLAG ? "" : "=");
}

static int opt_value(struct zr_parser *p, struct zr_opt *o, struct zr_token *t, char *val)
{
	int vcol = t->col + (int)(val - t->text);
	char list[200];
	int ret;

	switch (o->type) {
	case ZR_OPT_FLAG:
		return 0;
	case ZR_OPT_SIZE:
		ret = zr_parse_size_str(val, &o->u);
		if (ret)
			return zr_perr(p, vcol, "expected a size %s for %s=, found '%s'",
				       size_forms, o->key, val);
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
		o->choice = find_choice(o->choices, val);
		if (o->choice < 0) {
			choice_list(list, sizeof(list), o->choices, "");
			return zr_perr(p, vcol, "expected %s=%s, found '%s'", o->key, list, val);
		}
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
				if (opts[i].type == ZR_OPT_FLAG ? (!val && !strcmp(t->text, opts[i].key)) :
				    key_is(t, opts[i].key))
					o = &opts[i];
			}
		}
		if (!o) {
			opt_list(list, sizeof(list), opts, nopts);
			if (!nopts)
				return zr_perr_here(p, "the end of the line");
			ret = zr_perr_here(p, list);
			return ret;
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
