"""The load benchmark's baseline: a minimal Flask app answering a constant JSON."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def constant():
    return jsonify(status="ok", items=[1, 2, 3])
