//go:build !unix

package attest

import "errors"

func mkfifo(string, uint32) error { return errors.New("no named pipes on this system") }
