package attest

import (
	"os"
	"syscall"
)

// sysStamp is the part of a file's stat that Go's FileInfo leaves out.
type sysStamp struct {
	ctimeSec, ctimeNsec int64
	dev, ino            uint64
}

func sysStampOf(fi os.FileInfo) sysStamp {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return sysStamp{}
	}
	sec, nsec := st.Ctim.Unix()
	return sysStamp{ctimeSec: sec, ctimeNsec: nsec, dev: uint64(st.Dev), ino: uint64(st.Ino)}
}
