/* Red-black trees (Linux include/linux/rbtree.h): the tree holds nodes
 * embedded in the caller's structures; the caller walks down to find
 * where a new node goes (it alone knows the key), links it with
 * rb_link_node, then rb_insert_color rebalances. See lib/rbtree.c. */
#ifndef GUESTOS_LIB_RBTREE_H
#define GUESTOS_LIB_RBTREE_H

#include "guestos/lib/types.h"

enum rb_color { RB_RED, RB_BLACK };

struct rb_node {
	struct rb_node *rb_parent, *rb_left, *rb_right;
	enum rb_color rb_color;
};

struct rb_root {
	struct rb_node *rb_node;
};

#define RB_ROOT ((struct rb_root){NULL})
#define rb_entry(ptr, type, member) container_of(ptr, type, member)

/* Put node (red, no children) at *link, a child slot of parent (or the
 * root slot, parent NULL). The tree is unbalanced until rb_insert_color. */
static inline void rb_link_node(struct rb_node *node, struct rb_node *parent,
				struct rb_node **link)
{
	node->rb_parent = parent;
	node->rb_left = node->rb_right = NULL;
	node->rb_color = RB_RED;
	*link = node;
}

/* Restore the red-black properties after rb_link_node. */
void rb_insert_color(struct rb_node *node, struct rb_root *root);
/* Remove node from the tree and rebalance. */
void rb_erase(struct rb_node *node, struct rb_root *root);
/* In-order walk: the smallest node, and a node's successor/predecessor
 * (NULL past the end). */
struct rb_node *rb_first(const struct rb_root *root);
struct rb_node *rb_next(const struct rb_node *node);
struct rb_node *rb_prev(const struct rb_node *node);
/* Check the red-black properties: NULL when they hold, else which broke.
 * For self-tests. */
const char *rb_check(const struct rb_root *root);

#endif
