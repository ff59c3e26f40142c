/*
 * engine_table.c - the keyed state of one operator partition.
 *
 * An open-addressing hash table with linear probing over pointers to
 * separately allocated entries, so an entry never moves while an
 * operator or the touched list holds it.  Deletion is two-phase: a
 * removed key stays as a tombstone entry (ENG_E_DELETED) until the next
 * state checkpoint has written it, then eng_table_checkpointed() purges
 * it with a backward-shift delete (no probe-chain markers needed).
 * Entries changed since the last checkpoint are kept in a dirty list,
 * so an incremental checkpoint costs the changed keys, not the table.
 * The table does not know what the values mean; operators do.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "../codec/codec.h"

uint64_t
eng_hash(const void *key, size_t len)
{
	return ckpt_xxh3_64(key, len);
}

void
eng_table_init(struct eng_table *t)
{
	memset(t, 0, sizeof(*t));
}

/* Bytes of an entry with a klen-byte key (at least ENG_KEY_LOAD after
 * the header), rounded up to 16. */
static size_t
entry_size(size_t klen)
{
	size_t kb = klen + 1 > ENG_KEY_LOAD ? klen + 1 : ENG_KEY_LOAD;

	return (sizeof(struct eng_entry) + kb + 15) & ~(size_t)15;
}

#define SLAB_MIN_CHUNK 4096
#define SLAB_MAX_CHUNK (64 * 1024)

static struct eng_entry *
entry_alloc(struct eng_table *t, size_t klen)
{
	size_t sz = entry_size(klen), cls = sz / 16;
	struct eng_entry *e;

	if (cls >= ENG_SLAB_CLASSES)
		return malloc(sz);
	if ((e = t->freel[cls]) != NULL) {
		/* a free entry's first bytes hold the next free one */
		memcpy(&t->freel[cls], (const void *)e,
		    sizeof(struct eng_entry *));
		return e;
	}
	if (t->left < sz) {
		size_t n = t->next_chunk ? t->next_chunk : SLAB_MIN_CHUNK;
		char *c = malloc(n);

		if (c == NULL)
			return NULL;
		memcpy(c, &t->chunks, sizeof(t->chunks));
		t->chunks = c;
		t->cur = c + 16;	/* after the link, 16-aligned */
		t->left = n - 16;
		t->next_chunk = n * 2 > SLAB_MAX_CHUNK ? SLAB_MAX_CHUNK :
		    n * 2;
	}
	e = (struct eng_entry *)(void *)t->cur;
	t->cur += sz;
	t->left -= sz;
	return e;
}

static void
entry_free(struct eng_table *t, struct eng_entry *e)
{
	size_t cls = entry_size(e->klen) / 16;

	if (cls >= ENG_SLAB_CLASSES) {
		free(e);
		return;
	}
	memcpy((void *)e, &t->freel[cls], sizeof(struct eng_entry *));
	t->freel[cls] = e;
}

void
eng_table_release(struct eng_table *t, void (*free_ext)(void *))
{
	void *c;

	if (t == NULL)
		return;
	for (size_t i = 0; i < t->cap; i++) {
		struct eng_entry *e = t->slots[i].e;

		if (e == NULL)
			continue;
		if (free_ext != NULL && e->ext != NULL)
			free_ext(e->ext);
		if (entry_size(e->klen) / 16 >= ENG_SLAB_CLASSES)
			free(e);
	}
	while ((c = t->chunks) != NULL) {
		memcpy(&t->chunks, c, sizeof(c));
		free(c);
	}
	free(t->slots);
	free(t->dirty);
	memset(t, 0, sizeof(*t));
}

static size_t
slot_of(const struct eng_table *t, uint64_t hash)
{
	return eng_home_slot(hash, t->cap);
}

static int
grow(struct eng_table *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 64;
	struct eng_slot *ns;

	if ((ns = calloc(ncap, sizeof(*ns))) == NULL)
		return -1;
	/*
	 * A large calloc is fresh memory that reads as zeros without being
	 * there: the probes below would map the zero page into it, and the
	 * first write to each page then replaces that page and interrupts
	 * every other CPU running a thread of the process to flush its TLB
	 * (about 3,800 times in a run of make bench's overhead part).  A
	 * write to each page first gives it its own frame, with no flush.
	 * (Not malloc + memset: compilers turn that back into calloc.)
	 */
	for (size_t o = 0; o < ncap * sizeof(*ns); o += 4096)
		((volatile char *)ns)[o] = 0;
	for (size_t i = 0; i < t->cap; i++) {
		struct eng_slot *sl = &t->slots[i];
		size_t j;

		if (sl->e == NULL)
			continue;
		j = eng_home_slot(sl->hash, ncap);
		while (ns[j].e != NULL)
			j = (j + 1) & (ncap - 1);
		ns[j] = *sl;
	}
	free(t->slots);
	t->slots = ns;
	t->cap = ncap;
	return 0;
}

/* key bytes equal?  Short keys (most words) without a call. */
static inline int
key_eq(const char *a, const char *b, size_t n)
{
	uint64_t x, y, u, v;
	uint32_t p, q, r, s;

	if (n >= 8 && n <= 16) {	/* two overlapping words */
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		memcpy(&u, a + n - 8, 8);
		memcpy(&v, b + n - 8, 8);
		return x == y && u == v;
	}
	if (n >= 4 && n < 8) {
		memcpy(&p, a, 4);
		memcpy(&q, b, 4);
		memcpy(&r, a + n - 4, 4);
		memcpy(&s, b + n - 4, 4);
		return p == q && r == s;
	}
	if (n < 4) {
		for (size_t i = 0; i < n; i++)
			if (a[i] != b[i])
				return 0;
		return 1;
	}
	return memcmp(a, b, n) == 0;
}

/* Slot index of key, or the empty slot where it would go. */
static inline size_t
find_slot(const struct eng_table *t, const char *key, size_t klen,
    uint64_t hash)
{
	size_t i = slot_of(t, hash);

	for (;;) {
		const struct eng_slot *sl = &t->slots[i];

		if (sl->e == NULL)
			return i;
		if (sl->hash == hash && sl->e->klen == klen &&
		    key_eq(sl->e->key, key, klen))
			return i;
		i = (i + 1) & (t->cap - 1);
	}
}

struct eng_entry *
eng_table_get(struct eng_table *t, const char *key, size_t klen,
    uint64_t hash)
{
	struct eng_entry *e;

	if (t->cap == 0)
		return NULL;
	e = t->slots[find_slot(t, key, klen, hash)].e;
	if (e == NULL || (e->flags & ENG_E_DELETED))
		return NULL;
	return e;
}

struct eng_entry *
eng_table_upsert(struct eng_table *t, const char *key, size_t klen,
    uint64_t hash, int *created)
{
	struct eng_entry *e;
	size_t i;

	if (created != NULL)
		*created = 0;
	if ((t->used + 1) * 2 > t->cap && grow(t) != 0)
		return NULL;
	i = find_slot(t, key, klen, hash);
	e = t->slots[i].e;
	if (e != NULL) {
		if (e->flags & ENG_E_DELETED) {
			e->flags &= ~ENG_E_DELETED;
			e->count = 0;
			e->aux = 0;
			t->live++;
			if (created != NULL)
				*created = 1;
		}
		return e;
	}
	e = entry_alloc(t, klen);
	if (e == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->hash = hash;
	e->klen = (uint32_t)klen;
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	t->slots[i].e = e;
	t->slots[i].hash = hash;
	t->used++;
	t->live++;
	if (created != NULL)
		*created = 1;
	return e;
}

int
eng_table_dirty_add(struct eng_table *t, struct eng_entry *e)
{
	if (e->flags & ENG_E_DIRTY)
		return 0;
	if (t->ndirty == t->dirty_cap) {
		size_t ncap = t->dirty_cap ? t->dirty_cap * 2 : 64;
		struct eng_entry **nd = realloc(t->dirty,
		    ncap * sizeof(*nd));

		if (nd == NULL)
			return -1;
		t->dirty = nd;
		t->dirty_cap = ncap;
	}
	t->dirty[t->ndirty++] = e;
	e->flags |= ENG_E_DIRTY;
	return 0;
}

int
eng_table_delete(struct eng_table *t, struct eng_entry *e,
    void (*free_ext)(void *))
{
	if (e->flags & ENG_E_DELETED)
		return 0;
	if (free_ext != NULL && e->ext != NULL)
		free_ext(e->ext);
	e->ext = NULL;
	e->count = 0;
	e->aux = 0;
	e->flags |= ENG_E_DELETED;
	t->live--;
	return eng_table_dirty(t, e);
}

/* Backward-shift deletion of the entry in slot i (linear probing). */
static void
remove_slot(struct eng_table *t, size_t i)
{
	size_t j = i;

	entry_free(t, t->slots[i].e);
	t->slots[i].e = NULL;
	t->used--;
	for (;;) {
		size_t home;

		j = (j + 1) & (t->cap - 1);
		if (t->slots[j].e == NULL)
			return;
		home = slot_of(t, t->slots[j].hash);
		/* may it move into the hole at i?  only if i is on its path */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			t->slots[i] = t->slots[j];
			t->slots[j].e = NULL;
			i = j;
		}
	}
}

void
eng_table_checkpointed(struct eng_table *t, void (*free_ext)(void *))
{
	for (size_t d = 0; d < t->ndirty; d++) {
		struct eng_entry *e = t->dirty[d];

#if defined(__GNUC__)
		if (d + 16 < t->ndirty)
			eng_entry_prefetch(t->dirty[d + 16]);
#endif

		if (e->flags & ENG_E_DELETED) {
			size_t i = find_slot(t, e->key, e->klen, e->hash);

			(void)free_ext;
			remove_slot(t, i);
			continue;
		}
		e->flags &= ~ENG_E_DIRTY;
		e->flags |= ENG_E_PERSISTED;
	}
	t->ndirty = 0;
}

int
eng_table_each(struct eng_table *t,
    int (*fn)(void *arg, struct eng_entry *e), void *arg)
{
	for (size_t i = 0; i < t->cap; i++) {
		struct eng_entry *e = t->slots[i].e;
		int rc;

		if (e == NULL || (e->flags & ENG_E_DELETED))
			continue;
		rc = fn(arg, e);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Sort item: the first 8 key bytes big-endian, so most compares stay
 * in the array. */
struct sort_item {
	uint64_t pfx;
	struct eng_entry *e;
};

static uint64_t
key_prefix(const struct eng_entry *e)
{
	uint64_t p = 0;
	size_t n = e->klen < 8 ? e->klen : 8;

	for (size_t i = 0; i < 8; i++)
		p = (p << 8) | (i < n ? (unsigned char)e->key[i] : 0);
	return p;
}

static int
item_cmp(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;
	const struct eng_entry *ex, *ey;

	if (x->pfx != y->pfx)
		return x->pfx < y->pfx ? -1 : 1;
	ex = x->e;
	ey = y->e;
	return ckpt_key_cmp((const uint8_t *)ex->key, ex->klen,
	    (const uint8_t *)ey->key, ey->klen);
}

int
eng_entries_sort(struct eng_entry **v, size_t n)
{
	struct sort_item *it;

	if (n < 2)
		return 0;
	it = malloc(n * sizeof(*it));
	if (it == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		it[i].pfx = key_prefix(v[i]);
		it[i].e = v[i];
	}
	qsort(it, n, sizeof(*it), item_cmp);
	for (size_t i = 0; i < n; i++)
		v[i] = it[i].e;
	free(it);
	return 0;
}
