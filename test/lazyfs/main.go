// lazyfs: a FUSE filesystem for power-loss tests, in the method of LazyFS (the tool Jepsen uses). It
// serves a backing directory from memory and writes to the backing directory only what an fsync has
// made durable, so the backing directory is at every moment the state a machine would find after a
// power cut. A power cut is `kill -9` of this process (the memory it holds is the page cache that
// dies with the power) followed by an unmount; the next mount starts from the backing directory.
//
// Semantics (strict POSIX, simpler than any real filesystem, never kinder):
//   - a file's contents and size become durable at fsync or fdatasync of that file, and only then;
//   - a directory's entries (create, mkdir, rename, unlink, rmdir) become durable at fsync of that
//     directory, and only then: a file created, fsync'd and renamed is lost until its directory is
//     fsync'd; a rename is durable only after the fsync of the directory it lands in (and the old
//     name disappears only after the fsync of the directory it left);
//   - a directory entry made durable points at the file's durable contents, which are empty when
//     the file was never fsync'd;
//   - no partial writes, no reordering inside one fsync, no torn sectors: a cut loses whole
//     unsynced writes. Hard links, symbolic links, xattrs and mmap are not supported.
//
// -ignore-fsync is the negative control: fsync and fdatasync succeed but make nothing durable, as a
// disk that lies would, so a test over it must find lost data.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

func main() {
	ignoreFsync := flag.Bool("ignore-fsync", false, "negative control: fsync makes nothing durable")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: lazyfs [-ignore-fsync] BACKING_DIR MOUNTPOINT")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	backing, err := filepath.Abs(flag.Arg(0))
	if err != nil {
		fail(err)
	}
	lfs := &lazyFS{ignoreFsync: *ignoreFsync}
	root := &dirNode{lfs: lfs, durablePath: backing, durable: map[string]*fs.Inode{}}
	second := time.Second
	server, err := fs.Mount(flag.Arg(1), root, &fs.Options{
		EntryTimeout: &second,
		AttrTimeout:  &second,
		MountOptions: fuse.MountOptions{FsName: "lazyfs", Name: "lazyfs", DirectMount: true},
	})
	if err != nil {
		fail(err)
	}
	if lfs.loadErr != nil {
		_ = server.Unmount()
		fail(lfs.loadErr)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		_ = server.Unmount()
	}()
	fmt.Println("ready")
	server.Wait()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "lazyfs:", err)
	os.Exit(1)
}

// lazyFS holds the one lock every operation takes: the tool favours obvious correctness over speed.
type lazyFS struct {
	mu          sync.Mutex
	ignoreFsync bool
	loadErr     error
}

// dirNode: the current entries are the go-fuse Inode's children; durable holds the entries as of
// the last fsync of this directory. durablePath is where the directory lives in the backing
// directory, or "" while no durable entry leads to it.
type dirNode struct {
	fs.Inode
	lfs         *lazyFS
	durable     map[string]*fs.Inode
	durablePath string
}

// fileNode: data is what readers see; synced is the durable contents; links are the durable
// entries naming this file (directory and name), where its synced contents must be written.
type fileNode struct {
	fs.Inode
	lfs    *lazyFS
	data   []byte
	synced []byte
	mode   uint32
	links  map[link]bool
	// dirtyFrom is the lowest offset written since the last fsync (len(data) when none was).
	dirtyFrom int64
}

type link struct {
	dir  *dirNode
	name string
}

var (
	_ fs.NodeOnAdder   = (*dirNode)(nil)
	_ fs.NodeCreater   = (*dirNode)(nil)
	_ fs.NodeMkdirer   = (*dirNode)(nil)
	_ fs.NodeUnlinker  = (*dirNode)(nil)
	_ fs.NodeRmdirer   = (*dirNode)(nil)
	_ fs.NodeRenamer   = (*dirNode)(nil)
	_ fs.NodeFsyncer   = (*dirNode)(nil)
	_ fs.NodeStatfser  = (*dirNode)(nil)
	_ fs.NodeGetattrer = (*dirNode)(nil)
	_ fs.NodeOpener    = (*fileNode)(nil)
	_ fs.NodeReader    = (*fileNode)(nil)
	_ fs.NodeWriter    = (*fileNode)(nil)
	_ fs.NodeFsyncer   = (*fileNode)(nil)
	_ fs.NodeSetattrer = (*fileNode)(nil)
	_ fs.NodeGetattrer = (*fileNode)(nil)
	_ fs.NodeFlusher   = (*fileNode)(nil)
)

// OnAdd loads the backing directory: at mount, current and durable state are the same.
func (d *dirNode) OnAdd(ctx context.Context) {
	if d.lfs.loadErr == nil {
		d.lfs.loadErr = d.load(ctx)
	}
}

func (d *dirNode) load(ctx context.Context) error {
	entries, err := os.ReadDir(d.durablePath)
	if err != nil {
		return err
	}
	for _, entry := range entries {
		path := filepath.Join(d.durablePath, entry.Name())
		var child *fs.Inode
		switch {
		case entry.IsDir():
			sub := &dirNode{lfs: d.lfs, durablePath: path, durable: map[string]*fs.Inode{}}
			child = d.NewPersistentInode(ctx, sub, fs.StableAttr{Mode: syscall.S_IFDIR})
			if err := sub.load(ctx); err != nil {
				return err
			}
		case entry.Type().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			info, err := entry.Info()
			if err != nil {
				return err
			}
			file := &fileNode{lfs: d.lfs, data: data, synced: clone(data), mode: uint32(info.Mode().Perm()), links: map[link]bool{}, dirtyFrom: int64(len(data))}
			child = d.NewPersistentInode(ctx, file, fs.StableAttr{Mode: syscall.S_IFREG})
			file.links[link{d, entry.Name()}] = true
		default:
			return fmt.Errorf("%s: only regular files and directories are supported", path)
		}
		d.AddChild(entry.Name(), child, false)
		d.durable[entry.Name()] = child
	}
	return nil
}

func (d *dirNode) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = syscall.S_IFDIR | 0o755
	out.Nlink = 2
	return 0
}

func (d *dirNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	var st syscall.Statfs_t
	if err := syscall.Statfs(d.durablePathOrRoot(), &st); err != nil {
		return fs.ToErrno(err)
	}
	out.FromStatfsT(&st)
	return 0
}

func (d *dirNode) durablePathOrRoot() string {
	if d.durablePath != "" {
		return d.durablePath
	}
	_, parent := d.Parent()
	if parent == nil {
		return "/"
	}
	if pd, ok := parent.Operations().(*dirNode); ok {
		return pd.durablePathOrRoot()
	}
	return "/"
}

func (d *dirNode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	d.lfs.mu.Lock()
	defer d.lfs.mu.Unlock()
	if d.GetChild(name) != nil {
		return nil, nil, 0, syscall.EEXIST
	}
	file := &fileNode{lfs: d.lfs, mode: mode & 0o7777, links: map[link]bool{}}
	child := d.NewPersistentInode(ctx, file, fs.StableAttr{Mode: syscall.S_IFREG})
	file.fillAttr(&out.Attr)
	return child, nil, fuse.FOPEN_DIRECT_IO, 0
}

func (d *dirNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	d.lfs.mu.Lock()
	defer d.lfs.mu.Unlock()
	if d.GetChild(name) != nil {
		return nil, syscall.EEXIST
	}
	sub := &dirNode{lfs: d.lfs, durable: map[string]*fs.Inode{}}
	out.Attr.Mode = syscall.S_IFDIR | 0o755
	return d.NewPersistentInode(ctx, sub, fs.StableAttr{Mode: syscall.S_IFDIR}), 0
}

// Unlink, Rmdir and Rename change only the current entries (go-fuse moves the child in its tree
// once they return 0); the durable entries change at the directory's fsync.
func (d *dirNode) Unlink(ctx context.Context, name string) syscall.Errno {
	if d.GetChild(name) == nil {
		return syscall.ENOENT
	}
	return 0
}

func (d *dirNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	child := d.GetChild(name)
	if child == nil {
		return syscall.ENOENT
	}
	if len(child.Children()) > 0 {
		return syscall.ENOTEMPTY
	}
	return 0
}

func (d *dirNode) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if flags != 0 {
		return syscall.EINVAL
	}
	child := d.GetChild(name)
	if child == nil {
		return syscall.ENOENT
	}
	target := newParent.EmbeddedInode().GetChild(newName)
	if target != nil && target.IsDir() != child.IsDir() {
		if child.IsDir() {
			return syscall.ENOTDIR
		}
		return syscall.EISDIR
	}
	if target != nil && target.IsDir() && len(target.Children()) > 0 {
		return syscall.ENOTEMPTY
	}
	return 0
}

// Fsync of a directory makes its current entries durable and writes them to the backing directory.
func (d *dirNode) Fsync(ctx context.Context, f fs.FileHandle, flags uint32) syscall.Errno {
	d.lfs.mu.Lock()
	defer d.lfs.mu.Unlock()
	if d.lfs.ignoreFsync {
		return 0
	}
	current := d.Children()
	for name, old := range d.durable {
		if current[name] == old {
			continue
		}
		delete(d.durable, name)
		if err := d.forget(name, old); err != nil {
			return fs.ToErrno(err)
		}
	}
	for name, child := range current {
		if d.durable[name] == child {
			continue
		}
		d.durable[name] = child
		if err := d.materialize(name, child); err != nil {
			return fs.ToErrno(err)
		}
	}
	return 0
}

// forget removes a durable entry, from the backing directory too.
func (d *dirNode) forget(name string, child *fs.Inode) error {
	switch node := child.Operations().(type) {
	case *fileNode:
		delete(node.links, link{d, name})
	case *dirNode:
		node.setDurablePath("")
	}
	if d.durablePath == "" {
		return nil
	}
	return os.RemoveAll(filepath.Join(d.durablePath, name))
}

// materialize writes a new durable entry to the backing directory: a file with its synced contents,
// a directory with its durable entries.
func (d *dirNode) materialize(name string, child *fs.Inode) error {
	switch node := child.Operations().(type) {
	case *fileNode:
		node.links[link{d, name}] = true
		if d.durablePath == "" {
			return nil
		}
		path := filepath.Join(d.durablePath, name)
		if err := os.RemoveAll(path); err != nil {
			return err
		}
		return os.WriteFile(path, node.synced, os.FileMode(node.mode))
	case *dirNode:
		if d.durablePath == "" {
			return nil
		}
		path := filepath.Join(d.durablePath, name)
		if err := os.RemoveAll(path); err != nil {
			return err
		}
		if err := os.Mkdir(path, 0o755); err != nil {
			return err
		}
		node.durablePath = path
		for childName, grandchild := range node.durable {
			if err := node.materialize(childName, grandchild); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *dirNode) setDurablePath(path string) {
	d.durablePath = path
	for name, child := range d.durable {
		if sub, ok := child.Operations().(*dirNode); ok {
			if path == "" {
				sub.setDurablePath("")
			} else {
				sub.setDurablePath(filepath.Join(path, name))
			}
		}
	}
}

func (f *fileNode) fillAttr(out *fuse.Attr) {
	out.Mode = syscall.S_IFREG | f.mode
	out.Size = uint64(len(f.data))
	out.Blocks = (out.Size + 511) / 512
	out.Nlink = 1
}

func (f *fileNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	f.lfs.mu.Lock()
	defer f.lfs.mu.Unlock()
	f.fillAttr(&out.Attr)
	return 0
}

// Open answers with direct I/O: every read and write comes to this process, none is served from or
// kept in the kernel's page cache, which a power cut would not clear.
func (f *fileNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	f.lfs.mu.Lock()
	defer f.lfs.mu.Unlock()
	if flags&syscall.O_TRUNC != 0 {
		f.resize(0)
	}
	return nil, fuse.FOPEN_DIRECT_IO, 0
}

func (f *fileNode) Flush(ctx context.Context, fh fs.FileHandle) syscall.Errno { return 0 }

func (f *fileNode) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	f.lfs.mu.Lock()
	defer f.lfs.mu.Unlock()
	if off >= int64(len(f.data)) {
		return fuse.ReadResultData(nil), 0
	}
	end := min(off+int64(len(dest)), int64(len(f.data)))
	return fuse.ReadResultData(clone(f.data[off:end])), 0
}

func (f *fileNode) Write(ctx context.Context, fh fs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	f.lfs.mu.Lock()
	defer f.lfs.mu.Unlock()
	end := off + int64(len(data))
	if end > int64(len(f.data)) {
		f.resize(end)
	}
	copy(f.data[off:], data)
	f.dirtyFrom = min(f.dirtyFrom, off)
	return uint32(len(data)), 0
}

func (f *fileNode) resize(size int64) {
	f.dirtyFrom = min(f.dirtyFrom, size, int64(len(f.data)))
	if size <= int64(cap(f.data)) {
		old := len(f.data)
		f.data = f.data[:size]
		clear(f.data[min(int64(old), size):])
		return
	}
	grown := make([]byte, size, max(size, int64(cap(f.data))*2))
	copy(grown, f.data)
	f.data = grown
}

func (f *fileNode) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	f.lfs.mu.Lock()
	defer f.lfs.mu.Unlock()
	if size, ok := in.GetSize(); ok {
		f.resize(int64(size))
	}
	if mode, ok := in.GetMode(); ok {
		f.mode = mode & 0o7777
	}
	f.fillAttr(&out.Attr)
	return 0
}

// Fsync (and fdatasync) of a file makes its contents durable, under every durable name it has.
func (f *fileNode) Fsync(ctx context.Context, fh fs.FileHandle, flags uint32) syscall.Errno {
	f.lfs.mu.Lock()
	defer f.lfs.mu.Unlock()
	if f.lfs.ignoreFsync {
		return 0
	}
	from := min(f.dirtyFrom, int64(len(f.synced)))
	f.synced = append(f.synced[:from], f.data[from:]...)
	f.dirtyFrom = int64(len(f.data))
	for l := range f.links {
		if l.dir.durablePath == "" {
			continue
		}
		if err := writeFrom(filepath.Join(l.dir.durablePath, l.name), f.synced, from, f.mode); err != nil {
			return fs.ToErrno(err)
		}
	}
	return 0
}

// writeFrom brings a backing file whose first `from` bytes are already right up to date.
func writeFrom(path string, data []byte, from int64, mode uint32) error {
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, os.FileMode(mode))
	if err != nil {
		return err
	}
	if _, err := file.WriteAt(data[from:], from); err != nil {
		_ = file.Close()
		return err
	}
	if err := file.Truncate(int64(len(data))); err != nil {
		_ = file.Close()
		return err
	}
	return file.Close()
}

func clone(data []byte) []byte {
	return append([]byte(nil), data...)
}
