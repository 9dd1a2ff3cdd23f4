//go:build !unix

package bridge

import "time"

func processTime() time.Duration { return 0 }
