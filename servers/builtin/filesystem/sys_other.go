//go:build !unix

package filesystem

const openNonblock = 0
