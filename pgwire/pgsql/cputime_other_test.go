//go:build !unix

package pgsql

import "time"

func processCPU() time.Duration { return 0 }
