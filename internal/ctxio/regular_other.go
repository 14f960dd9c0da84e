//go:build !unix

package ctxio

const openNonBlock = 0
