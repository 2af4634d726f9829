// The octal escapes of the kernel's mount table (/proc/self/mountinfo) and of fstab (libmount): space, tab, newline
// and backslash are written as \040, \011, \012 and \134, so that fields stay separated by spaces.

/** A path as the mount table and fstab write it. */
export const escapeMountField = (s: string) => s.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);

/** A field of the mount table as the path it names. */
export const unescapeMountField = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
