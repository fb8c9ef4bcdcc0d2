/* Circular doubly linked lists with a head node, as Linux's <linux/list.h>:
 * an empty list's head points at itself. */
#ifndef GUESTOS_LIB_LIST_H
#define GUESTOS_LIB_LIST_H

#include "guestos/lib/types.h"

struct list_head {
	struct list_head *next, *prev;
};

static inline void INIT_LIST_HEAD(struct list_head *head)
{
	head->next = head;
	head->prev = head;
}

static inline bool list_empty(const struct list_head *head)
{
	return head->next == head;
}

static inline void __list_insert(struct list_head *entry, struct list_head *prev,
				 struct list_head *next)
{
	next->prev = entry;
	entry->next = next;
	entry->prev = prev;
	prev->next = entry;
}

/* Insert entry right after head (stack order). */
static inline void list_add(struct list_head *entry, struct list_head *head)
{
	__list_insert(entry, head, head->next);
}

/* Insert entry right before head (queue order). */
static inline void list_add_tail(struct list_head *entry, struct list_head *head)
{
	__list_insert(entry, head->prev, head);
}

/* Unlink entry; its pointers are poisoned so a second unlink faults. */
static inline void list_del(struct list_head *entry)
{
	entry->next->prev = entry->prev;
	entry->prev->next = entry->next;
	entry->next = NULL;
	entry->prev = NULL;
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(head, type, member) list_entry((head)->next, type, member)

#endif
