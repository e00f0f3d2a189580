"""The REST service: Docker Engine API and Libpod API routes over a unix socket.

A thin layer like ``cli``: each handler turns HTTP into one ``engine`` call and the
result back into HTTP.
"""
