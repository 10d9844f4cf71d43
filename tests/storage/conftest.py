from tests.fixtures.s3 import s3_bucket, s3_client, s3_server, s3_storage  # noqa: F401
