package bot

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// AdminHandler serves /healthz (200 when an update can be committed: Redis
// takes a write; 503 otherwise) and Prometheus /metrics.
func (b *Bot) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := b.store.Ping(ctx); err != nil {
			b.log.Warn("health check failed", "err", err)
			http.Error(w, "redis does not take writes", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.Handle("/metrics", promhttp.HandlerFor(b.opt.Registry, promhttp.HandlerOpts{}))
	return mux
}
