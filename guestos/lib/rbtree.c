/* Red-black trees.
 *
 * A red-black tree is a binary search tree whose nodes are coloured red
 * or black so that
 *
 *   1. the root is black,
 *   2. a red node has no red child,
 *   3. every path from a node down to a missing child (NULL) passes the
 *      same number of black nodes (the node's "black height").
 *
 * Rule 3 makes every root-to-leaf path contain the same number of black
 * nodes, and rule 2 says at most every other node on a path is red: so the
 * longest path is at most twice the shortest and the height is at most
 * 2·log2(n+1). Lookups, which walk one path, are O(log n).
 *
 * The tree only knows structure; the caller knows the keys. To insert,
 * the caller walks down comparing keys, hangs the new node as a red leaf
 * (rb_link_node: rule 3 still holds, a red node adds no black) and calls
 * rb_insert_color, which repairs rule 2 if the parent is red too. To
 * erase, rb_erase unlinks the node (swapping it first with its in-order
 * successor if it has two children, so the node physically removed has at
 * most one child); removing a black node breaks rule 3 on one side, which
 * the fix-up repairs by recolouring and at most three rotations.
 *
 * A rotation turns a node's child into its parent while keeping the
 * in-order sequence:
 *
 *        x                y
 *       / \    left     /   \
 *      a   y   ---->   x     c      (rotate_left(x); rotate_right(y) undoes it)
 *         / \         / \
 *        b   c       a   b
 *
 * Linux (lib/rbtree.c) packs the colour into the parent pointer's low bit
 * and augments nodes; here the colour is a separate field, for reading. */
#include "guestos/lib/rbtree.h"

static bool is_red(const struct rb_node *node)
{
	return node && node->rb_color == RB_RED;
}

static bool is_black(const struct rb_node *node)
{
	return !is_red(node); /* missing children count as black */
}

/* Make new take old's place under old's parent (or as the root). */
static void replace_child(struct rb_root *root, struct rb_node *parent, struct rb_node *old,
			  struct rb_node *new)
{
	if (!parent)
		root->rb_node = new;
	else if (parent->rb_left == old)
		parent->rb_left = new;
	else
		parent->rb_right = new;
}

static void rotate_left(struct rb_root *root, struct rb_node *x)
{
	struct rb_node *y = x->rb_right;

	x->rb_right = y->rb_left;
	if (y->rb_left)
		y->rb_left->rb_parent = x;
	y->rb_parent = x->rb_parent;
	replace_child(root, x->rb_parent, x, y);
	y->rb_left = x;
	x->rb_parent = y;
}

static void rotate_right(struct rb_root *root, struct rb_node *x)
{
	struct rb_node *y = x->rb_left;

	x->rb_left = y->rb_right;
	if (y->rb_right)
		y->rb_right->rb_parent = x;
	y->rb_parent = x->rb_parent;
	replace_child(root, x->rb_parent, x, y);
	y->rb_right = x;
	x->rb_parent = y;
}

/* node is red; while its parent is red too (rule 2 broken):
 *  - red uncle: paint parent and uncle black, grandparent red, and
 *    continue from the grandparent (black heights unchanged);
 *  - black uncle: rotate so that the red pair lines up, then rotate the
 *    grandparent down and swap its colour with the parent's; done. */
void rb_insert_color(struct rb_node *node, struct rb_root *root)
{
	struct rb_node *parent;

	while ((parent = node->rb_parent) && is_red(parent)) {
		struct rb_node *gparent = parent->rb_parent; /* exists: a red node is not the root */
		bool left = parent == gparent->rb_left;
		struct rb_node *uncle = left ? gparent->rb_right : gparent->rb_left;

		if (is_red(uncle)) {
			parent->rb_color = uncle->rb_color = RB_BLACK;
			gparent->rb_color = RB_RED;
			node = gparent;
			continue;
		}
		if (node == (left ? parent->rb_right : parent->rb_left)) {
			/* zig-zag: make it zig-zig */
			if (left)
				rotate_left(root, parent);
			else
				rotate_right(root, parent);
			node = parent;
			parent = node->rb_parent;
		}
		if (left)
			rotate_right(root, gparent);
		else
			rotate_left(root, gparent);
		parent->rb_color = RB_BLACK;
		gparent->rb_color = RB_RED;
	}
	root->rb_node->rb_color = RB_BLACK;
}

/* After removing a black node, the subtree at node (possibly NULL, under
 * parent) has one black too few. Move the deficit up, or fix it with the
 * sibling's help:
 *  - red sibling: rotate it up, so the sibling becomes black;
 *  - black sibling with black children: paint it red (its side loses a
 *    black too) and continue at the parent;
 *  - black sibling with a red child: rotations give the deficient side
 *    one more black; done. */
static void erase_fixup(struct rb_root *root, struct rb_node *node, struct rb_node *parent)
{
	while (node != root->rb_node && is_black(node)) {
		bool left = node == parent->rb_left;
		struct rb_node *sib = left ? parent->rb_right : parent->rb_left;

		if (is_red(sib)) {
			sib->rb_color = RB_BLACK;
			parent->rb_color = RB_RED;
			if (left)
				rotate_left(root, parent);
			else
				rotate_right(root, parent);
			sib = left ? parent->rb_right : parent->rb_left;
		}
		if (is_black(sib->rb_left) && is_black(sib->rb_right)) {
			sib->rb_color = RB_RED;
			node = parent;
			parent = node->rb_parent;
			continue;
		}
		if (left && is_black(sib->rb_right)) {
			sib->rb_left->rb_color = RB_BLACK;
			sib->rb_color = RB_RED;
			rotate_right(root, sib);
			sib = parent->rb_right;
		} else if (!left && is_black(sib->rb_left)) {
			sib->rb_right->rb_color = RB_BLACK;
			sib->rb_color = RB_RED;
			rotate_left(root, sib);
			sib = parent->rb_left;
		}
		sib->rb_color = parent->rb_color;
		parent->rb_color = RB_BLACK;
		if (left) {
			sib->rb_right->rb_color = RB_BLACK;
			rotate_left(root, parent);
		} else {
			sib->rb_left->rb_color = RB_BLACK;
			rotate_right(root, parent);
		}
		node = root->rb_node;
	}
	if (node)
		node->rb_color = RB_BLACK;
}

void rb_erase(struct rb_node *node, struct rb_root *root)
{
	struct rb_node *child, *parent;
	enum rb_color removed_color = node->rb_color;

	if (node->rb_left && node->rb_right) {
		/* Put the successor (leftmost of the right subtree, which has no
		 * left child) in node's place, colour included; the successor's
		 * old position is what loses a node. */
		struct rb_node *succ = node->rb_right;

		while (succ->rb_left)
			succ = succ->rb_left;
		removed_color = succ->rb_color;
		child = succ->rb_right;
		if (succ->rb_parent == node) {
			parent = succ;
		} else {
			parent = succ->rb_parent;
			parent->rb_left = child;
			if (child)
				child->rb_parent = parent;
			succ->rb_right = node->rb_right;
			node->rb_right->rb_parent = succ;
		}
		succ->rb_left = node->rb_left;
		node->rb_left->rb_parent = succ;
		succ->rb_parent = node->rb_parent;
		succ->rb_color = node->rb_color;
		replace_child(root, node->rb_parent, node, succ);
	} else {
		child = node->rb_left ? node->rb_left : node->rb_right;
		parent = node->rb_parent;
		if (child)
			child->rb_parent = parent;
		replace_child(root, parent, node, child);
	}
	if (removed_color == RB_BLACK)
		erase_fixup(root, child, parent);
}

struct rb_node *rb_first(const struct rb_root *root)
{
	struct rb_node *n = root->rb_node;

	while (n && n->rb_left)
		n = n->rb_left;
	return n;
}

struct rb_node *rb_next(const struct rb_node *node)
{
	const struct rb_node *parent;

	if (node->rb_right) {
		node = node->rb_right;
		while (node->rb_left)
			node = node->rb_left;
		return (struct rb_node *)node;
	}
	/* Up until we come from a left child. */
	while ((parent = node->rb_parent) && node == parent->rb_right)
		node = parent;
	return (struct rb_node *)parent;
}

struct rb_node *rb_prev(const struct rb_node *node)
{
	const struct rb_node *parent;

	if (node->rb_left) {
		node = node->rb_left;
		while (node->rb_right)
			node = node->rb_right;
		return (struct rb_node *)node;
	}
	while ((parent = node->rb_parent) && node == parent->rb_left)
		node = parent;
	return (struct rb_node *)parent;
}

/* The black height of the subtree at node, or -1 if some rule or parent
 * link is broken inside it. */
static int black_height(const struct rb_node *node, const char **why)
{
	int l, r;

	if (!node)
		return 0;
	if (is_red(node) && (is_red(node->rb_left) || is_red(node->rb_right)))
		*why = "a red node has a red child";
	if ((node->rb_left && node->rb_left->rb_parent != node) ||
	    (node->rb_right && node->rb_right->rb_parent != node))
		*why = "a child's parent link is wrong";
	l = black_height(node->rb_left, why);
	r = black_height(node->rb_right, why);
	if (l != r)
		*why = "black heights differ";
	return l + (is_black(node) ? 1 : 0);
}

const char *rb_check(const struct rb_root *root)
{
	const char *why = NULL;

	if (is_red(root->rb_node))
		return "the root is red";
	black_height(root->rb_node, &why);
	return why;
}
