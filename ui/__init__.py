"""The Streamlit app. Empty until the app issue lands; nothing here is used yet."""
