"""Upload handling that never holds a large file in memory or on disk past the
size limit: bytes over ``CONVERTER_MAX_UPLOAD_BYTES`` stop the upload."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler


class UploadTooLarge(StopUpload):
    pass


class LimitedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > settings.CONVERTER_MAX_UPLOAD_BYTES + 64 * 1024:
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=False)
        return super().handle_raw_input(input_data, META, content_length, boundary, encoding)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > settings.CONVERTER_MAX_UPLOAD_BYTES:
            self.request.upload_too_large = True
            self.file.close()  # the temporary file is deleted with it
            raise StopUpload(connection_reset=False)
        return super().receive_data_chunk(raw_data, start)
