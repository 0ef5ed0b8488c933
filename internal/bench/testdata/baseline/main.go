// Command baseline is the benchmarks' point of comparison: a minimal
// net/http server doing the example function's work — decode {"name"},
// sleep for sleepMs when asked, answer {"message","requestId"} as JSON.
//
// It serves on the listening socket it inherits as file descriptor 3
// (socket activation), so a caller can connect before it runs and time
// exec to first answer; with $BASELINE_ADDR it listens there instead.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"time"
)

type event struct {
	Name    string `json:"name"`
	SleepMs int    `json:"sleepMs"`
}

type response struct {
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
	PID       int    `json:"pid"`
}

func handle(w http.ResponseWriter, r *http.Request) {
	var e event
	if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if e.SleepMs > 0 {
		time.Sleep(time.Duration(e.SleepMs) * time.Millisecond)
	}
	if e.Name == "" {
		e.Name = "world"
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(response{
		Message:   fmt.Sprintf("Hello, %s!", e.Name),
		RequestID: hex.EncodeToString(id[:]),
		PID:       os.Getpid(),
	})
}

func main() {
	var ln net.Listener
	var err error
	if addr := os.Getenv("BASELINE_ADDR"); addr != "" {
		ln, err = net.Listen("tcp", addr)
	} else {
		ln, err = net.FileListener(os.NewFile(3, "listener"))
	}
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.Serve(ln, http.HandlerFunc(handle)))
}
