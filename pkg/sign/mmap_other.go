//go:build !unix

package sign

import "io"

// mapFile reads path whole: without mmap, pure Ed25519 needs the message in
// memory.
func mapFile(path string) ([]byte, func(), error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	return data, func() {}, err
}
