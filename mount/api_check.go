package mount

import "github.com/hanwen/go-fuse/v2/fs"

// The operations the mount supports, in one table. Anything not listed is
// answered by go-fuse's defaults.
var (
	_ = (fs.NodeLookuper)((*Dir)(nil))
	_ = (fs.NodeGetattrer)((*Dir)(nil))
	_ = (fs.NodeSetattrer)((*Dir)(nil))
	_ = (fs.NodeReaddirer)((*Dir)(nil))
	_ = (fs.NodeMkdirer)((*Dir)(nil))
	_ = (fs.NodeRmdirer)((*Dir)(nil))
	_ = (fs.NodeUnlinker)((*Dir)(nil))
	_ = (fs.NodeRenamer)((*Dir)(nil))
	_ = (fs.NodeCreater)((*Dir)(nil))
	_ = (fs.NodeLinker)((*Dir)(nil))
	_ = (fs.NodeSymlinker)((*Dir)(nil))
	_ = (fs.NodeMknoder)((*Dir)(nil))
	_ = (fs.NodeStatfser)((*Dir)(nil))
	_ = (fs.NodeFsyncer)((*Dir)(nil))
	_ = (fs.NodeGetxattrer)((*Dir)(nil))
	_ = (fs.NodeListxattrer)((*Dir)(nil))
	_ = (fs.NodeSetxattrer)((*Dir)(nil))
	_ = (fs.NodeRemovexattrer)((*Dir)(nil))

	_ = (fs.NodeGetattrer)((*File)(nil))
	_ = (fs.NodeSetattrer)((*File)(nil))
	_ = (fs.NodeOpener)((*File)(nil))
	_ = (fs.NodeAllocater)((*File)(nil))
	_ = (fs.NodeStatfser)((*File)(nil))
	_ = (fs.NodeGetxattrer)((*File)(nil))
	_ = (fs.NodeListxattrer)((*File)(nil))
	_ = (fs.NodeSetxattrer)((*File)(nil))
	_ = (fs.NodeRemovexattrer)((*File)(nil))

	_ = (fs.NodeGetattrer)((*statusFile)(nil))
	_ = (fs.NodeSetattrer)((*statusFile)(nil))
	_ = (fs.NodeOpener)((*statusFile)(nil))
	_ = (fs.NodeReader)((*statusFile)(nil))

	_ = (fs.FileReader)((*handle)(nil))
	_ = (fs.FileWriter)((*handle)(nil))
	_ = (fs.FileFlusher)((*handle)(nil))
	_ = (fs.FileFsyncer)((*handle)(nil))
	_ = (fs.FileReleaser)((*handle)(nil))
)
