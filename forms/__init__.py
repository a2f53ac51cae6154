"""WTForms classes by domain; views validate with these and never parse request.form."""
