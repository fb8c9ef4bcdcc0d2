/* The ELF64 loader and execve. A program comes from a Multiboot module:
 * each PT_LOAD segment becomes a VMA with the segment's permissions
 * (filled through copy_to_user while still writable, then mprotected),
 * the break starts after the last segment, and the stack holds argc,
 * argv, envp and the auxiliary vector (SysV x86-64 ABI §3.4.1). */
#include "guestos/kernel/exec.h"

#include "guestos/include/errno.h"
#include "guestos/kernel/cmdline.h"
#include "guestos/kernel/elf.h"
#include "guestos/kernel/printk.h"
#include "guestos/lib/string.h"
#include "guestos/mm/gfp.h"
#include "guestos/mm/mmap.h"
#include "guestos/mm/slab.h"

static struct boot_module modules[MAX_MODULES];
static unsigned int module_count;

/* Copy the word at s (up to a space) into dst[size]; return what follows. */
static const char *copy_word(char *dst, size_t size, const char *s)
{
	size_t n = 0;

	while (*s && *s != ' ') {
		if (n + 1 < size)
			dst[n++] = *s;
		s++;
	}
	dst[n] = '\0';
	while (*s == ' ')
		s++;
	return s;
}

static void add_module(const struct multiboot_mod_list *m)
{
	struct boot_module *bm = &modules[module_count++];
	char path[128];
	const char *s = m->cmdline ? __va(m->cmdline) : "";
	const char *rest = copy_word(path, sizeof path, s);
	const char *base = path;

	for (const char *p = path; *p; p++)
		if (*p == '/')
			base = p + 1;
	copy_word(bm->name, sizeof bm->name, base);
	size_t n = MIN(strlen(rest), sizeof bm->args - 1);
	memcpy(bm->args, rest, n);
	bm->args[n] = '\0';
	bm->data = __va(m->mod_start);
	bm->size = m->mod_end - m->mod_start;
	pr_info("module %s: %lu bytes%s%s\n", bm->name, (unsigned long)bm->size, n ? ", args " : "",
		bm->args);
}

void modules_init(const struct multiboot_info *mbi)
{
	if (!(mbi->flags & MULTIBOOT_INFO_MODS))
		return;
	const struct multiboot_mod_list *mods = __va(mbi->mods_addr);
	for (u32 i = 0; i < mbi->mods_count; i++) {
		if (module_count == MAX_MODULES) {
			pr_warn("modules: more than %d, the rest ignored\n", MAX_MODULES);
			break;
		}
		add_module(&mods[i]);
	}
}

unsigned int nr_modules(void)
{
	return module_count;
}

const struct boot_module *find_module(const char *name)
{
	for (unsigned int i = 0; i < module_count; i++)
		if (!strcmp(modules[i].name, name))
			return &modules[i];
	return NULL;
}

/* ---- checking the image ---- */

static long bad_image(const struct boot_module *m, const char *why)
{
	pr_info("exec: %s: not a valid ELF64 executable: %s\n", m->name, why);
	return -ENOEXEC;
}

static const Elf64_Phdr *elf_phdrs(const struct boot_module *m)
{
	const Elf64_Ehdr *eh = (const void *)m->data;

	return (const void *)(m->data + eh->e_phoff);
}

static const char *check_segment(const struct boot_module *m, const Elf64_Phdr *ph)
{
	if (ph->p_offset > m->size || ph->p_filesz > m->size - ph->p_offset)
		return "segment beyond the end of the file";
	if (ph->p_filesz > ph->p_memsz)
		return "segment file size above its memory size";
	if (ph->p_vaddr < MMAP_MIN_ADDR || ph->p_memsz > TASK_SIZE ||
	    ph->p_vaddr > TASK_SIZE - ph->p_memsz)
		return "segment outside user space";
	return NULL;
}

/* Why m is not a loadable executable, or NULL. Segments must be in
 * address order and not share pages. */
static const char *check_elf(const struct boot_module *m)
{
	const Elf64_Ehdr *eh = (const void *)m->data;
	unsigned long prev_end = 0;
	bool any = false;

	if (m->size < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return "no ELF magic";
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return "not 64-bit little-endian";
	if (eh->e_machine != EM_X86_64 || eh->e_type != ET_EXEC)
		return "not an x86-64 executable (ET_EXEC)";
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > m->size ||
	    (u64)eh->e_phnum * sizeof(Elf64_Phdr) > m->size - eh->e_phoff)
		return "program headers beyond the end of the file";
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = &elf_phdrs(m)[i];
		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		const char *why = check_segment(m, ph);
		if (why)
			return why;
		if (ALIGN_DOWN(ph->p_vaddr, PAGE_SIZE) < prev_end)
			return "segments overlap or are out of order";
		prev_end = ALIGN_UP(ph->p_vaddr + ph->p_memsz, PAGE_SIZE);
		any = true;
	}
	if (!any)
		return "no loadable segment";
	if (eh->e_entry < MMAP_MIN_ADDR || eh->e_entry >= TASK_SIZE)
		return "entry point outside user space";
	return NULL;
}

/* ---- loading ---- */

struct elf_info {
	unsigned long entry, phdr_addr, phnum, end;
};

static unsigned long segment_prot(const Elf64_Phdr *ph)
{
	return ((ph->p_flags & PF_R) ? PROT_READ : 0) | ((ph->p_flags & PF_W) ? PROT_WRITE : 0) |
	       ((ph->p_flags & PF_X) ? PROT_EXEC : 0);
}

/* Map one PT_LOAD segment into mm (the active mm): anonymous memory,
 * writable while the file bytes are copied in (the rest, the bss, stays
 * zero), then given the segment's own permissions. */
static long load_segment(struct mm_struct *mm, const struct boot_module *m, const Elf64_Phdr *ph)
{
	unsigned long start = ALIGN_DOWN(ph->p_vaddr, PAGE_SIZE);
	unsigned long len = ALIGN_UP(ph->p_vaddr + ph->p_memsz, PAGE_SIZE) - start;
	long r = do_mmap(mm, start, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, m->name);

	if (r < 0)
		return r;
	r = copy_to_user((void *)ph->p_vaddr, m->data + ph->p_offset, ph->p_filesz);
	if (r)
		return r;
	return do_mprotect(mm, start, len, segment_prot(ph));
}

/* The phdr table's user address: inside the segment that holds it. */
static unsigned long phdr_address(const Elf64_Ehdr *eh, const Elf64_Phdr *ph)
{
	if (ph->p_offset <= eh->e_phoff && eh->e_phoff < ph->p_offset + ph->p_filesz)
		return ph->p_vaddr + (eh->e_phoff - ph->p_offset);
	return 0;
}

static void account_segment(struct mm_struct *mm, const Elf64_Phdr *ph)
{
	unsigned long end = ph->p_vaddr + ph->p_memsz;

	if (ph->p_flags & PF_X) {
		mm->start_code = mm->start_code ? MIN(mm->start_code, ph->p_vaddr) : ph->p_vaddr;
		mm->end_code = MAX(mm->end_code, end);
	} else if (ph->p_flags & PF_W) {
		mm->start_data = mm->start_data ? MIN(mm->start_data, ph->p_vaddr) : ph->p_vaddr;
		mm->end_data = MAX(mm->end_data, end);
	}
}

static long load_elf_binary(struct mm_struct *mm, const struct boot_module *m, struct elf_info *info)
{
	const Elf64_Ehdr *eh = (const void *)m->data;

	info->entry = eh->e_entry;
	info->phnum = eh->e_phnum;
	info->phdr_addr = info->end = 0;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = &elf_phdrs(m)[i];
		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		long r = load_segment(mm, m, ph);
		if (r)
			return r;
		account_segment(mm, ph);
		if (!info->phdr_addr)
			info->phdr_addr = phdr_address(eh, ph);
		info->end = ALIGN_UP(ph->p_vaddr + ph->p_memsz, PAGE_SIZE);
	}
	mm->start_brk = mm->brk = info->end;
	return 0;
}

/* ---- the initial stack ---- */

#define NR_AUXV 6 /* pairs, AT_NULL included */

/* Push the strings, then argc, argv[], NULL, envp[], NULL, auxv; *sp is
 * set to argc's address, 16-byte aligned. */
static long create_elf_tables(const struct linux_binprm *bprm, const struct elf_info *info,
			      unsigned long *sp)
{
	unsigned long strings = ALIGN_DOWN(STACK_TOP - bprm->len, 16);
	size_t nwords = 1 + (size_t)bprm->argc + 1 + (size_t)bprm->envc + 1 + 2 * NR_AUXV;
	unsigned long vec_at = ALIGN_DOWN(strings - nwords * 8, 16);
	if (STACK_TOP - vec_at > PAGE_SIZE)
		return -E2BIG; /* one page: the stack VMA's first */
	u64 *vec = kmalloc(nwords * 8, GFP_KERNEL);
	if (!vec)
		return -ENOMEM;
	size_t w = 0, off = 0;
	vec[w++] = (u64)bprm->argc;
	for (int i = 0; i < bprm->argc + bprm->envc; i++) {
		if (i == bprm->argc)
			vec[w++] = 0; /* end of argv */
		vec[w++] = strings + off;
		off += strlen(bprm->buf + off) + 1;
	}
	vec[w++] = 0; /* end of envp */
	const u64 auxv[2 * NR_AUXV] = {AT_PHDR, info->phdr_addr, AT_PHENT, sizeof(Elf64_Phdr),
				       AT_PHNUM, info->phnum,    AT_PAGESZ, PAGE_SIZE,
				       AT_ENTRY, info->entry,    AT_NULL,  0};
	memcpy(&vec[w], auxv, sizeof auxv);
	long r = copy_to_user((void *)strings, bprm->buf, bprm->len);
	if (!r)
		r = copy_to_user((void *)vec_at, vec, nwords * 8);
	kfree(vec);
	*sp = vec_at;
	return r;
}

/* ---- execve ---- */

/* Build a fresh mm for m and make it tsk's; the old one is dropped. On
 * error nothing of tsk changes. */
static long exec_binprm(struct task_struct *tsk, const struct boot_module *m,
			const struct linux_binprm *bprm)
{
	const char *why = check_elf(m);
	if (why)
		return bad_image(m, why);
	struct mm_struct *mm = mm_alloc(), *prev = active_mm;
	if (!mm)
		return -ENOMEM;
	struct elf_info info;
	unsigned long sp = 0;
	switch_mm(mm);
	long r = load_elf_binary(mm, m, &info);
	if (!r)
		r = setup_user_stack(mm, STACK_TOP, STACK_SIZE_LIMIT);
	if (!r)
		r = create_elf_tables(bprm, &info, &sp);
	if (r || tsk != current)
		switch_mm(prev);
	if (r) {
		mmput(mm);
		return r;
	}
	struct mm_struct *old = tsk->mm;
	tsk->mm = mm;
	mm->start_stack = sp;
	if (old)
		mmput(old);
	start_thread(task_pt_regs(tsk), info.entry, sp);
	set_task_comm(tsk, m->name);
	return 0;
}

/* Append the string s (len bytes, NUL excluded) to bprm. */
static long bprm_add(struct linux_binprm *bprm, const char *s, size_t len)
{
	if (bprm->argc + bprm->envc >= MAX_ARG_STRINGS || bprm->len + len + 1 > PAGE_SIZE / 2)
		return -E2BIG;
	memcpy(bprm->buf + bprm->len, s, len);
	bprm->buf[bprm->len + len] = '\0';
	bprm->len += len + 1;
	return 0;
}

/* Copy a user string (at most max bytes with its NUL) into dst. Its
 * length, or -EFAULT, or -E2BIG. */
static long strncpy_from_user(char *dst, const char *src, size_t max)
{
	for (size_t n = 0; n < max; n++) {
		if (copy_from_user(&dst[n], &src[n], 1))
			return -EFAULT;
		if (!dst[n])
			return (long)n;
	}
	return -E2BIG;
}

/* Copy a NULL-terminated user array of user strings into bprm. */
static long copy_strings(struct linux_binprm *bprm, const char *const *uvec, int *count)
{
	char tmp[256];

	for (int i = 0; uvec; i++) {
		const char *p;
		if (copy_from_user(&p, &uvec[i], sizeof p))
			return -EFAULT;
		if (!p)
			return 0;
		long len = strncpy_from_user(tmp, p, sizeof tmp);
		if (len < 0)
			return len;
		long r = bprm_add(bprm, tmp, (size_t)len);
		if (r)
			return r;
		(*count)++;
	}
	return 0;
}

static long bprm_alloc(struct linux_binprm *bprm)
{
	bprm->buf = (char *)__get_free_page(GFP_KERNEL);
	bprm->len = 0;
	bprm->argc = bprm->envc = 0;
	return bprm->buf ? 0 : -ENOMEM;
}

long sys_execve(const char *filename, const char *const *argv, const char *const *envp)
{
	char name[MODULE_NAME_LEN];
	struct linux_binprm bprm;
	long r = strncpy_from_user(name, filename, sizeof name);

	if (r < 0)
		return r == -E2BIG ? -ENOENT : r;
	const struct boot_module *m = find_module(name);
	if (!m)
		return -ENOENT;
	r = bprm_alloc(&bprm);
	if (!r)
		r = copy_strings(&bprm, argv, &bprm.argc);
	if (!r)
		r = copy_strings(&bprm, envp, &bprm.envc);
	if (!r)
		r = exec_binprm(current, m, &bprm);
	if (bprm.buf)
		free_page((unsigned long)bprm.buf);
	return r;
}

/* Add the space-separated words of s that contain '=' (want_eq) or all
 * of them (!want_eq) to bprm. */
static long add_words(struct linux_binprm *bprm, const char *s, bool want_eq, int *count)
{
	char word[COMMAND_LINE_SIZE];

	while (*s == ' ')
		s++;
	while (*s) {
		s = copy_word(word, sizeof word, s);
		if (want_eq && !strchr(word, '='))
			continue;
		long r = bprm_add(bprm, word, strlen(word));
		if (r)
			return r;
		(*count)++;
	}
	return 0;
}

bool start_init(const char *name)
{
	const struct boot_module *m = find_module(name);
	struct linux_binprm bprm;
	struct task_struct *tsk;

	if (!m) {
		pr_info("init: no module named %s\n", name);
		return false;
	}
	long r = bprm_alloc(&bprm);
	if (!r)
		r = bprm_add(&bprm, m->name, strlen(m->name));
	if (!r) {
		bprm.argc = 1;
		r = add_words(&bprm, m->args, false, &bprm.argc);
	}
	if (!r)
		r = add_words(&bprm, cmdline_params(), true, &bprm.envc);
	tsk = r ? NULL : alloc_task(m->name);
	if (!r && !tsk)
		r = -ENOMEM;
	if (!r)
		r = exec_binprm(tsk, m, &bprm);
	if (bprm.buf)
		free_page((unsigned long)bprm.buf);
	if (r) {
		pr_info("init: cannot start %s: error %ld\n", name, r);
		return false;
	}
	pr_info("Run %s as init process\n", m->name);
	wake_up_process(tsk);
	return true;
}
