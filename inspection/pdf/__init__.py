"""The minutes as a PDF: rendering with WeasyPrint and signing with pyHanko."""
