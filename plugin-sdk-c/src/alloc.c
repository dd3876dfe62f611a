/*
 * The plugin's heap: a segregated free-list allocator over linear memory.
 *
 * Every block is a power of two (16 B to 2 GiB, an 8-byte header included) carved from a bump
 * pointer that starts at `__heap_base` and grows linear memory a page run at a time. A freed block
 * goes onto the free list of its size class and is reused by the next request of that class, so
 * `pb_malloc` and `pb_free` are O(1) and a plugin that frees what it allocates per connection keeps
 * a flat memory however many connections come and go. The price: up to half a block is slack,
 * and memory held by one class is not lent to another (wasm memory cannot shrink anyway).
 *
 * This is also the allocator behind `cabi_realloc` (abi.c): the broker's buffers are ordinary heap
 * blocks, which is what lets a plugin keep a payload with `pb_keep_payload()`.
 */
#include <plugbroker.h>

extern unsigned char __heap_base;

#define PAGE_BYTES 65536u
#define HEADER_BYTES 8u
#define MIN_CLASS 4u   /* 16-byte blocks */
#define MAX_CLASS 31u  /* 2 GiB blocks */
#define CLASS_COUNT (MAX_CLASS + 1u)

/** Sits in front of every block; keeps the payload 8-byte aligned. */
typedef struct header {
    uint32_t size_class;
    uint32_t magic;
} header;

#define MAGIC_LIVE 0x706c6267u /* "plbg" */
#define MAGIC_FREE 0x66726565u /* "free" */

/** A free block's payload holds the next free block of its class. */
typedef struct free_block {
    struct free_block *next;
} free_block;

static free_block *free_lists[CLASS_COUNT];
static uintptr_t bump;
static uintptr_t bump_end;

/** Smallest class whose blocks hold `size` payload bytes; CLASS_COUNT when none does. */
static uint32_t class_for(size_t size) {
    if (size > ((size_t)1 << MAX_CLASS) - HEADER_BYTES) return CLASS_COUNT;
    size_t total = size + HEADER_BYTES;
    uint32_t cls = MIN_CLASS;
    while (((size_t)1 << cls) < total) cls++;
    return cls;
}

/** Carves a fresh block of `1 << cls` bytes from the end of the heap, growing memory if needed. */
static header *carve(uint32_t cls) {
    if (bump == 0) {
        bump = ((uintptr_t)&__heap_base + 7u) & ~(uintptr_t)7u;
        bump_end = (uintptr_t)__builtin_wasm_memory_size(0) * PAGE_BYTES;
    }
    size_t bytes = (size_t)1 << cls;
    if (bytes > bump_end - bump) {
        size_t missing = bytes - (bump_end - bump);
        size_t pages = (missing + PAGE_BYTES - 1) / PAGE_BYTES;
        if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) return NULL;
        bump_end += pages * PAGE_BYTES;
    }
    header *h = (header *)bump;
    bump += bytes;
    return h;
}

void *pb_malloc(size_t size) {
    uint32_t cls = class_for(size);
    if (cls == CLASS_COUNT) return NULL;
    header *h;
    free_block *fb = free_lists[cls];
    if (fb != NULL) {
        free_lists[cls] = fb->next;
        h = (header *)((uintptr_t)fb - HEADER_BYTES);
    } else {
        h = carve(cls);
        if (h == NULL) return NULL;
        h->size_class = cls;
    }
    h->magic = MAGIC_LIVE;
    return (void *)((uintptr_t)h + HEADER_BYTES);
}

/** The header of a live block; traps on a pointer that is not one (double free, stray pointer). */
static header *live_header(void *ptr) {
    header *h = (header *)((uintptr_t)ptr - HEADER_BYTES);
    if ((((uintptr_t)ptr) & 7u) != 0 || h->magic != MAGIC_LIVE || h->size_class < MIN_CLASS || h->size_class > MAX_CLASS) {
        __builtin_trap();
    }
    return h;
}

void pb_free(void *ptr) {
    if (ptr == NULL) return;
    header *h = live_header(ptr);
    h->magic = MAGIC_FREE;
    free_block *fb = (free_block *)ptr;
    fb->next = free_lists[h->size_class];
    free_lists[h->size_class] = fb;
}

void *pb_calloc(size_t count, size_t size) {
    if (size != 0 && count > (size_t)-1 / size) return NULL;
    void *ptr = pb_malloc(count * size);
    if (ptr != NULL) __builtin_memset(ptr, 0, count * size);
    return ptr;
}

void *pb_realloc(void *ptr, size_t size) {
    if (ptr == NULL) return pb_malloc(size);
    header *h = live_header(ptr);
    size_t capacity = ((size_t)1 << h->size_class) - HEADER_BYTES;
    if (size <= capacity) return ptr;
    void *fresh = pb_malloc(size);
    if (fresh == NULL) return NULL;
    __builtin_memcpy(fresh, ptr, capacity);
    pb_free(ptr);
    return fresh;
}
